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
	st := &state{Printer: p}
	st.collectField = st.collect
	b, err := st.message(b, m.ProtoReflect())
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

// state is one Append's: the fields of the messages being printed, as a
// stack (a message's fields are collected, sorted, then printed, and the
// fields of the messages inside them go above), so that collecting fields
// allocates a few times per print rather than once per message.
type state struct {
	Printer
	stack []field
	// collectField is collect, as a func value made once.
	collectField func(protoreflect.FieldDescriptor, protoreflect.Value) bool
}

type field struct {
	fd protoreflect.FieldDescriptor
	v  protoreflect.Value
}

func (st *state) collect(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	st.stack = append(st.stack, field{fd, v})
	return true
}

// message appends m: a well-known type in its own JSON form, any other
// message as an object of its populated fields.
func (st *state) message(b []byte, m protoreflect.Message) ([]byte, error) {
	if wkt := wellKnown(m.Descriptor().FullName()); wkt != nil {
		return wkt(st, b, m)
	}
	b = append(b, '{')
	b, err := st.fields(b, m, false)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// fields appends m's populated fields as object members, in declaration
// order and then its extensions by full name: protojson's order. Range
// finds the populated fields faster than asking each field (a oneof is
// one check, not one per member), but in an order of its own. more says
// whether members precede them in the object.
func (st *state) fields(b []byte, m protoreflect.Message, more bool) ([]byte, error) {
	start := len(st.stack)
	m.Range(st.collectField)
	end := len(st.stack)
	sortFields(st.stack[start:end])
	var err error
	for i := start; i < end; i++ {
		// The fields of messages inside go above end and are gone again
		// when member returns.
		f := st.stack[i]
		if b, err = st.member(b, f.fd, f.v, more); err != nil {
			return nil, err
		}
		more = true
	}
	st.stack = st.stack[:start]
	return b, nil
}

// sortFields sorts fields by declaration, extensions last by full name.
// Range's order is nearly that already, so an insertion sort is cheap.
func sortFields(fs []field) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fieldBefore(fs[j].fd, fs[j-1].fd); j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

func fieldBefore(x, y protoreflect.FieldDescriptor) bool {
	if x.IsExtension() != y.IsExtension() {
		return y.IsExtension()
	}
	if x.IsExtension() {
		return x.FullName() < y.FullName()
	}
	return x.Index() < y.Index()
}

// member appends one field as "name":value, after a comma when more.
func (st *state) member(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value, more bool) ([]byte, error) {
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
		return st.list(b, fd, v.List())
	case fd.IsMap():
		return st.mapping(b, fd, v.Map())
	}
	return st.singular(b, fd, v)
}

func (st *state) list(b []byte, fd protoreflect.FieldDescriptor, l protoreflect.List) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i := range l.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = st.singular(b, fd, l.Get(i)); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// mapping appends a map as an object whose keys are sorted: false before
// true, numbers ascending, strings by their bytes (protojson's order).
// The entries are taken with Range: Get would convert every key back.
func (st *state) mapping(b []byte, fd protoreflect.FieldDescriptor, m protoreflect.Map) ([]byte, error) {
	entries := make([]entry, 0, m.Len())
	m.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		entries = append(entries, entry{k, v})
		return true
	})
	byKey := compareKeys(fd.MapKey().Kind())
	slices.SortFunc(entries, func(x, y entry) int { return byKey(x.k, y.k) })
	b = append(b, '{')
	var err error
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendString(b, e.k.String()); err != nil {
			return nil, fmt.Errorf("printing a key of %s: %w", fd.FullName(), err)
		}
		b = append(b, ':')
		if b, err = st.singular(b, fd.MapValue(), e.v); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

type entry struct {
	k protoreflect.MapKey
	v protoreflect.Value
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
func (st *state) singular(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) ([]byte, error) {
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
		return st.message(b, v.Message())
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
