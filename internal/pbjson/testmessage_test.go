package pbjson_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// allKinds is a proto3 message with a field of every kind, repeated and
// map fields of several key kinds, a oneof, a proto3 optional field and
// every well-known type, built from its descriptor: the generated types at
// hand do not cover all of it.
var allKinds = func() protoreflect.MessageDescriptor {
	type F = descriptorpb.FieldDescriptorProto
	const (
		optional = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		repeated = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	)
	var number int32
	field := func(name string, label descriptorpb.FieldDescriptorProto_Label, t descriptorpb.FieldDescriptorProto_Type, typeName string) *F {
		number++
		f := &F{Name: proto.String(name), Number: proto.Int32(number), Label: label.Enum(), Type: t.Enum()}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	scalar := func(name string, t descriptorpb.FieldDescriptorProto_Type) *F { return field(name, optional, t, "") }
	message := func(name, typeName string) *F {
		return field(name, optional, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, typeName)
	}
	entry := func(name string, key descriptorpb.FieldDescriptorProto_Type, value *F) *descriptorpb.DescriptorProto {
		value.Name, value.Number = proto.String("value"), proto.Int32(2)
		return &descriptorpb.DescriptorProto{
			Name: proto.String(name),
			Field: []*F{
				{Name: proto.String("key"), Number: proto.Int32(1), Label: optional.Enum(), Type: key.Enum()},
				value,
			},
			Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
		}
	}
	mapField := func(name, entryName string) *F {
		return field(name, repeated, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".test.AllKinds."+entryName)
	}
	inOneof := func(f *F, index int32) *F {
		f.OneofIndex = proto.Int32(index)
		return f
	}
	optionalField := scalar("maybe", descriptorpb.FieldDescriptorProto_TYPE_INT32)
	optionalField.Proto3Optional = proto.Bool(true)
	optionalField.OneofIndex = proto.Int32(1)

	fields := []*F{
		scalar("an_int32", descriptorpb.FieldDescriptorProto_TYPE_INT32),
		scalar("an_int64", descriptorpb.FieldDescriptorProto_TYPE_INT64),
		scalar("a_uint32", descriptorpb.FieldDescriptorProto_TYPE_UINT32),
		scalar("a_uint64", descriptorpb.FieldDescriptorProto_TYPE_UINT64),
		scalar("a_sint32", descriptorpb.FieldDescriptorProto_TYPE_SINT32),
		scalar("a_sint64", descriptorpb.FieldDescriptorProto_TYPE_SINT64),
		scalar("a_fixed32", descriptorpb.FieldDescriptorProto_TYPE_FIXED32),
		scalar("a_fixed64", descriptorpb.FieldDescriptorProto_TYPE_FIXED64),
		scalar("an_sfixed32", descriptorpb.FieldDescriptorProto_TYPE_SFIXED32),
		scalar("an_sfixed64", descriptorpb.FieldDescriptorProto_TYPE_SFIXED64),
		scalar("a_float", descriptorpb.FieldDescriptorProto_TYPE_FLOAT),
		scalar("a_double", descriptorpb.FieldDescriptorProto_TYPE_DOUBLE),
		scalar("a_bool", descriptorpb.FieldDescriptorProto_TYPE_BOOL),
		scalar("a_string", descriptorpb.FieldDescriptorProto_TYPE_STRING),
		scalar("some_bytes", descriptorpb.FieldDescriptorProto_TYPE_BYTES),
		field("a_color", optional, descriptorpb.FieldDescriptorProto_TYPE_ENUM, ".test.Color"),
		message("child", ".test.AllKinds"),
		field("int64s", repeated, descriptorpb.FieldDescriptorProto_TYPE_INT64, ""),
		field("strings", repeated, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
		field("colors", repeated, descriptorpb.FieldDescriptorProto_TYPE_ENUM, ".test.Color"),
		field("children", repeated, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".test.AllKinds"),
		mapField("by_string", "ByStringEntry"),
		mapField("by_int32", "ByInt32Entry"),
		mapField("by_int64", "ByInt64Entry"),
		mapField("by_uint32", "ByUint32Entry"),
		mapField("by_bool", "ByBoolEntry"),
		mapField("children_by_name", "ChildrenByNameEntry"),
		inOneof(scalar("chosen_string", descriptorpb.FieldDescriptorProto_TYPE_STRING), 0),
		inOneof(message("chosen_child", ".test.AllKinds"), 0),
		optionalField,
		message("an_any", ".google.protobuf.Any"),
		field("anys", repeated, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".google.protobuf.Any"),
		message("a_duration", ".google.protobuf.Duration"),
		message("a_timestamp", ".google.protobuf.Timestamp"),
		message("a_bool_value", ".google.protobuf.BoolValue"),
		message("a_uint32_value", ".google.protobuf.UInt32Value"),
		message("an_int64_value", ".google.protobuf.Int64Value"),
		message("a_double_value", ".google.protobuf.DoubleValue"),
		message("a_string_value", ".google.protobuf.StringValue"),
		message("a_bytes_value", ".google.protobuf.BytesValue"),
		message("a_struct", ".google.protobuf.Struct"),
		message("a_value", ".google.protobuf.Value"),
		message("a_list_value", ".google.protobuf.ListValue"),
		message("an_empty", ".google.protobuf.Empty"),
		message("a_field_mask", ".google.protobuf.FieldMask"),
	}
	file := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("pbjson_test/all_kinds.proto"),
		Package: proto.String("test"),
		Syntax:  proto.String("proto3"),
		Dependency: []string{
			"google/protobuf/any.proto", "google/protobuf/duration.proto", "google/protobuf/timestamp.proto",
			"google/protobuf/wrappers.proto", "google/protobuf/struct.proto", "google/protobuf/empty.proto",
			"google/protobuf/field_mask.proto",
		},
		EnumType: []*descriptorpb.EnumDescriptorProto{{
			Name: proto.String("Color"),
			Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: proto.String("COLOR_UNSET"), Number: proto.Int32(0)},
				{Name: proto.String("RED"), Number: proto.Int32(1)},
				{Name: proto.String("GREEN"), Number: proto.Int32(2)},
			},
		}},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name:  proto.String("AllKinds"),
			Field: fields,
			NestedType: []*descriptorpb.DescriptorProto{
				entry("ByStringEntry", descriptorpb.FieldDescriptorProto_TYPE_STRING, &F{Label: optional.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum()}),
				entry("ByInt32Entry", descriptorpb.FieldDescriptorProto_TYPE_INT32, &F{Label: optional.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()}),
				entry("ByInt64Entry", descriptorpb.FieldDescriptorProto_TYPE_INT64, &F{Label: optional.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), TypeName: proto.String(".test.Color")}),
				entry("ByUint32Entry", descriptorpb.FieldDescriptorProto_TYPE_UINT32, &F{Label: optional.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_BOOL.Enum()}),
				entry("ByBoolEntry", descriptorpb.FieldDescriptorProto_TYPE_BOOL, &F{Label: optional.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()}),
				entry("ChildrenByNameEntry", descriptorpb.FieldDescriptorProto_TYPE_STRING, &F{Label: optional.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".test.AllKinds")}),
			},
			OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("choice")}, {Name: proto.String("_maybe")}},
		}},
	}
	// Link the well-known types so that their files are registered.
	_ = []proto.Message{&anypb.Any{}, &durationpb.Duration{}, &timestamppb.Timestamp{}, &wrapperspb.BoolValue{},
		&structpb.Struct{}, &emptypb.Empty{}, &fieldmaskpb.FieldMask{}}
	fd, err := protodesc.NewFile(file, protoregistry.GlobalFiles)
	if err != nil {
		panic("building the test message: " + err.Error())
	}
	return fd.Messages().ByName("AllKinds")
}()

// kinds is a message of allKinds with its fields set by set, by name.
type kinds struct {
	m *dynamicpb.Message
}

func newKinds() kinds { return kinds{dynamicpb.NewMessage(allKinds)} }

func (k kinds) fd(name string) protoreflect.FieldDescriptor {
	fd := allKinds.Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		panic("no field " + name)
	}
	return fd
}

func (k kinds) set(name string, v any) kinds {
	fd := k.fd(name)
	switch v := v.(type) {
	case proto.Message:
		// A well-known type: copied into the field's dynamic message.
		b, err := proto.Marshal(v)
		if err != nil {
			panic(err)
		}
		dst := k.m.Mutable(fd).Message()
		if err := proto.Unmarshal(b, dst.Interface()); err != nil {
			panic(err)
		}
	case kinds:
		k.m.Set(fd, protoreflect.ValueOfMessage(v.m))
	default:
		k.m.Set(fd, protoreflect.ValueOf(v))
	}
	return k
}

func (k kinds) list(name string, vs ...any) kinds {
	l := k.m.Mutable(k.fd(name)).List()
	for _, v := range vs {
		switch v := v.(type) {
		case kinds:
			l.Append(protoreflect.ValueOfMessage(v.m))
		case proto.Message:
			e := l.NewElement().Message()
			b, _ := proto.Marshal(v)
			if err := proto.Unmarshal(b, e.Interface()); err != nil {
				panic(err)
			}
			l.Append(protoreflect.ValueOfMessage(e))
		default:
			l.Append(protoreflect.ValueOf(v))
		}
	}
	return k
}

func (k kinds) entry(name string, key, v any) kinds {
	mp := k.m.Mutable(k.fd(name)).Map()
	if c, ok := v.(kinds); ok {
		v = c.m
	}
	mk := protoreflect.ValueOf(key).MapKey()
	if m, ok := v.(*dynamicpb.Message); ok {
		mp.Set(mk, protoreflect.ValueOfMessage(m))
		return k
	}
	mp.Set(mk, protoreflect.ValueOf(v))
	return k
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
