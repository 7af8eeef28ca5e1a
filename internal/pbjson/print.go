package pbjson

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

// Printer prints messages as compact JSON. The zero value prints what
// protojson.MarshalOptions{UseProtoNames: true} prints, without its
// whitespace.
type Printer struct {
	// Packed returns the message a was packed from, or nil when it is not
	// known; the printer then resolves a's type and unmarshals its bytes.
	// It lets a caller that packs lazily leave an Any's value empty.
	Packed func(a *anypb.Any) proto.Message
	// Resolver finds the types of Anys Packed does not know; nil is
	// protoregistry.GlobalTypes.
	Resolver interface {
		protoregistry.MessageTypeResolver
		protoregistry.ExtensionTypeResolver
	}
}

// Append appends m as JSON to b. A nil m is an empty object, as for
// protojson.
func (p Printer) Append(b []byte, m proto.Message) ([]byte, error) {
	if m == nil {
		return append(b, '{', '}'), nil
	}
	if p.Resolver == nil {
		p.Resolver = protoregistry.GlobalTypes
	}
	b, err := p.message(b, m.ProtoReflect())
	if err != nil {
		return nil, err
	}
	// protojson refuses proto2 messages whose required fields are unset;
	// so does this printer. It never looks inside an Any, as protojson.
	if err := proto.CheckInitialized(m); err != nil {
		return nil, fmt.Errorf("printing %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return b, nil
}

// message appends m: a well-known type in its own JSON form, any other
// message as an object of its populated fields.
func (p Printer) message(b []byte, m protoreflect.Message) ([]byte, error) {
	if wkt := wellKnown(m.Descriptor().FullName()); wkt != nil {
		return wkt(p, b, m)
	}
	b = append(b, '{')
	b, _, err := p.fields(b, m, false)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// fields appends m's populated fields as object members, in declaration
// order and then its extensions by full name (protojson's order). more
// says whether members precede them in the object; the result says
// whether there are members now.
func (p Printer) fields(b []byte, m protoreflect.Message, more bool) ([]byte, bool, error) {
	md := m.Descriptor()
	fds := md.Fields()
	var err error
	for i := range fds.Len() {
		fd := fds.Get(i)
		if !m.Has(fd) {
			continue
		}
		if b, err = p.member(b, fd, m.Get(fd), more); err != nil {
			return nil, false, err
		}
		more = true
	}
	if md.ExtensionRanges().Len() == 0 {
		return b, more, nil
	}
	var exts []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.IsExtension() {
			exts = append(exts, fd)
		}
		return true
	})
	slices.SortFunc(exts, func(x, y protoreflect.FieldDescriptor) int { return cmp.Compare(x.FullName(), y.FullName()) })
	for _, fd := range exts {
		if b, err = p.member(b, fd, m.Get(fd), more); err != nil {
			return nil, false, err
		}
		more = true
	}
	return b, more, nil
}

// member appends one field as "name":value, after a comma when more.
func (p Printer) member(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value, more bool) ([]byte, error) {
	if more {
		b = append(b, ',')
	}
	b, err := appendString(b, fd.TextName())
	if err != nil {
		return nil, fmt.Errorf("printing the name of %s: %w", fd.FullName(), err)
	}
	b = append(b, ':')
	switch {
	case fd.IsList():
		return p.list(b, fd, v.List())
	case fd.IsMap():
		return p.mapping(b, fd, v.Map())
	}
	return p.singular(b, fd, v)
}

func (p Printer) list(b []byte, fd protoreflect.FieldDescriptor, l protoreflect.List) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i := range l.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = p.singular(b, fd, l.Get(i)); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// mapping appends a map as an object whose keys are sorted: false before
// true, numbers ascending, strings by their bytes (protojson's order).
func (p Printer) mapping(b []byte, fd protoreflect.FieldDescriptor, m protoreflect.Map) ([]byte, error) {
	keys := make([]protoreflect.MapKey, 0, m.Len())
	m.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, compareKeys(fd.MapKey().Kind()))
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendString(b, k.String()); err != nil {
			return nil, fmt.Errorf("printing a key of %s: %w", fd.FullName(), err)
		}
		b = append(b, ':')
		if b, err = p.singular(b, fd.MapValue(), m.Get(k)); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func compareKeys(k protoreflect.Kind) func(x, y protoreflect.MapKey) int {
	switch k {
	case protoreflect.BoolKind:
		return func(x, y protoreflect.MapKey) int {
			switch {
			case x.Bool() == y.Bool():
				return 0
			case y.Bool():
				return -1
			}
			return 1
		}
	case protoreflect.StringKind:
		return func(x, y protoreflect.MapKey) int { return cmp.Compare(x.String(), y.String()) }
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return func(x, y protoreflect.MapKey) int { return cmp.Compare(x.Uint(), y.Uint()) }
	}
	return func(x, y protoreflect.MapKey) int { return cmp.Compare(x.Int(), y.Int()) }
}

// singular appends one value of fd's kind: a field's, a list's element or
// a map's value.
func (p Printer) singular(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) ([]byte, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool()), nil
	case protoreflect.StringKind:
		b, err := appendString(b, v.String())
		if err != nil {
			return nil, fmt.Errorf("printing %s: %w", fd.FullName(), err)
		}
		return b, nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		// 64-bit integers are strings: JavaScript's numbers hold 53 bits.
		b = append(b, '"')
		return append(strconv.AppendInt(b, v.Int(), 10), '"'), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b = append(b, '"')
		return append(strconv.AppendUint(b, v.Uint(), 10), '"'), nil
	case protoreflect.FloatKind:
		return appendFloat(b, v.Float(), 32), nil
	case protoreflect.DoubleKind:
		return appendFloat(b, v.Float(), 64), nil
	case protoreflect.BytesKind:
		b = append(b, '"')
		return append(base64.StdEncoding.AppendEncode(b, v.Bytes()), '"'), nil
	case protoreflect.EnumKind:
		return appendEnum(b, fd.Enum(), v.Enum()), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return p.message(b, v.Message())
	}
	return nil, fmt.Errorf("printing %s: unknown kind %v", fd.FullName(), fd.Kind())
}

// appendEnum appends an enum value by its name, or by its number when the
// enum does not name it; google.protobuf.NullValue is null.
func appendEnum(b []byte, ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) []byte {
	if ed.FullName() == "google.protobuf.NullValue" {
		return append(b, "null"...)
	}
	if vd := ed.Values().ByNumber(n); vd != nil {
		b = append(b, '"')
		b = append(b, vd.Name()...)
		return append(b, '"')
	}
	return strconv.AppendInt(b, int64(n), 10)
}
