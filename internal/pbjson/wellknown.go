package pbjson

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// printFunc prints a well-known type in its own JSON form.
type printFunc func(st *state, b []byte, m protoreflect.Message) ([]byte, error)

// wellKnown returns the printer of the well-known types with a JSON form
// of their own, nil for every other message. google.protobuf.Empty has
// none: it is an object without fields like any other message, and inside
// an Any it has no "value".
func wellKnown(name protoreflect.FullName) printFunc {
	if name.Parent() != "google.protobuf" {
		return nil
	}
	switch name.Name() {
	case "Any":
		return (*state).packed
	case "Duration":
		return (*state).duration
	case "Timestamp":
		return (*state).timestamp
	case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
		"FloatValue", "DoubleValue", "StringValue", "BytesValue":
		return (*state).wrapper
	case "Struct":
		return (*state).structure
	case "ListValue":
		return (*state).listValue
	case "Value":
		return (*state).value
	case "FieldMask":
		return (*state).fieldMask
	}
	return nil
}

// packed prints an Any as the object of the message inside it with an
// "@type" member first; a well-known type inside it is its "value".
func (st *state) packed(b []byte, m protoreflect.Message) ([]byte, error) {
	fds := m.Descriptor().Fields()
	url := m.Get(fds.ByNumber(1)).String()
	value := m.Get(fds.ByNumber(2)).Bytes()
	if url == "" {
		if len(value) > 0 {
			return nil, errors.New("printing google.protobuf.Any: a value without a type_url")
		}
		return append(b, '{', '}'), nil
	}
	inner, err := st.unpack(m, url, value)
	if err != nil {
		return nil, err
	}
	b = append(b, `{"@type":`...)
	if b, err = appendString(b, url); err != nil {
		return nil, fmt.Errorf("printing the type_url of an Any: %w", err)
	}
	if wkt := wellKnown(inner.Descriptor().FullName()); wkt != nil {
		b = append(b, `,"value":`...)
		if b, err = wkt(st, b, inner); err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	}
	if b, err = st.fields(b, inner, true); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// unpack returns the message inside an Any: the one it was packed from
// when Packed knows it, else its bytes unmarshalled into its type.
func (st *state) unpack(m protoreflect.Message, url string, value []byte) (protoreflect.Message, error) {
	if st.Packed != nil {
		if a, ok := m.Interface().(*anypb.Any); ok {
			if inner := st.Packed(a); inner != nil {
				name := inner.ProtoReflect().Descriptor().FullName()
				if !namesType(url, string(name)) {
					return nil, fmt.Errorf("printing google.protobuf.Any: type_url %q holds a packed %s", url, name)
				}
				return inner.ProtoReflect(), nil
			}
		}
	}
	mt, err := st.Resolver.FindMessageByURL(url)
	if err != nil {
		return nil, fmt.Errorf("printing google.protobuf.Any: resolving %q: %w", url, err)
	}
	inner := mt.New()
	// As protojson: never check required fields inside an Any.
	if err := (proto.UnmarshalOptions{AllowPartial: true, Resolver: st.Resolver}).Unmarshal(value, inner.Interface()); err != nil {
		return nil, fmt.Errorf("printing google.protobuf.Any: unmarshalling %q: %w", url, err)
	}
	return inner, nil
}

// namesType reports whether a type URL names the message type name: its
// last path segment is the name.
func namesType(url, name string) bool {
	rest, ok := strings.CutSuffix(url, name)
	return ok && (rest == "" || strings.HasSuffix(rest, "/"))
}

const (
	maxDurationSeconds  = 315576000000 // 10,000 years
	maxTimestampSeconds = 253402300799 // 9999-12-31T23:59:59Z
	minTimestampSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxNanos            = 999999999
)

// duration prints a Duration as seconds with 0, 3, 6 or 9 decimals and
// an "s": "1s", "-0.500s", "0.000001500s".
func (*state) duration(b []byte, m protoreflect.Message) ([]byte, error) {
	fds := m.Descriptor().Fields()
	secs, nanos := m.Get(fds.ByNumber(1)).Int(), m.Get(fds.ByNumber(2)).Int()
	switch {
	case secs < -maxDurationSeconds || secs > maxDurationSeconds:
		return nil, fmt.Errorf("printing google.protobuf.Duration: seconds out of range: %d", secs)
	case nanos < -maxNanos || nanos > maxNanos:
		return nil, fmt.Errorf("printing google.protobuf.Duration: nanos out of range: %d", nanos)
	case secs > 0 && nanos < 0 || secs < 0 && nanos > 0:
		return nil, errors.New("printing google.protobuf.Duration: seconds and nanos have different signs")
	}
	b = append(b, '"')
	if secs < 0 || nanos < 0 {
		b = append(b, '-')
		secs, nanos = -secs, -nanos
	}
	b = strconv.AppendInt(b, secs, 10)
	b = appendFraction(b, nanos)
	return append(b, 's', '"'), nil
}

// timestamp prints a Timestamp in RFC 3339 in UTC, with 0, 3, 6 or 9
// decimals: "2026-12-03T07:18:58.500Z".
func (*state) timestamp(b []byte, m protoreflect.Message) ([]byte, error) {
	fds := m.Descriptor().Fields()
	secs, nanos := m.Get(fds.ByNumber(1)).Int(), m.Get(fds.ByNumber(2)).Int()
	switch {
	case secs < minTimestampSeconds || secs > maxTimestampSeconds:
		return nil, fmt.Errorf("printing google.protobuf.Timestamp: seconds out of range: %d", secs)
	case nanos < 0 || nanos > maxNanos:
		return nil, fmt.Errorf("printing google.protobuf.Timestamp: nanos out of range: %d", nanos)
	}
	b = append(b, '"')
	b = time.Unix(secs, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05")
	b = appendFraction(b, nanos)
	return append(b, 'Z', '"'), nil
}

// appendFraction appends nanoseconds as a decimal fraction of 3, 6 or 9
// digits, the fewest that hold them; nothing for none.
func appendFraction(b []byte, nanos int64) []byte {
	if nanos == 0 {
		return b
	}
	digits := 9
	for nanos%1000 == 0 {
		nanos /= 1000
		digits -= 3
	}
	b = append(b, '.')
	var buf [9]byte
	s := strconv.AppendInt(buf[:0], nanos, 10)
	for range digits - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// wrapper prints a wrapper (BoolValue, UInt32Value, ...) as its value,
// zero included: that the wrapper is set is its whole point.
func (st *state) wrapper(b []byte, m protoreflect.Message) ([]byte, error) {
	fd := m.Descriptor().Fields().ByNumber(1)
	return st.singular(b, fd, m.Get(fd))
}

// structure prints a Struct as the object of its fields.
func (st *state) structure(b []byte, m protoreflect.Message) ([]byte, error) {
	fd := m.Descriptor().Fields().ByNumber(1)
	return st.mapping(b, fd, m.Get(fd).Map())
}

// listValue prints a ListValue as the array of its values.
func (st *state) listValue(b []byte, m protoreflect.Message) ([]byte, error) {
	fd := m.Descriptor().Fields().ByNumber(1)
	return st.list(b, fd, m.Get(fd).List())
}

// value prints a Value as the JSON value it holds; a Value holding
// nothing, NaN or an infinity has no JSON form.
func (st *state) value(b []byte, m protoreflect.Message) ([]byte, error) {
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("kind"))
	if fd == nil {
		return nil, errors.New("printing google.protobuf.Value: no kind set")
	}
	v := m.Get(fd)
	if fd.Kind() == protoreflect.DoubleKind && (math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0)) {
		return nil, fmt.Errorf("printing google.protobuf.Value: %v is no JSON number", v.Float())
	}
	return st.singular(b, fd, v)
}

// fieldMask leaves a FieldMask to protojson (paths in lowerCamelCase,
// joined by commas): Envoy's configs hardly hold one, and its refusals of
// paths that do not convert back are protojson's to define.
func (*state) fieldMask(b []byte, m protoreflect.Message) ([]byte, error) {
	js, err := protojson.Marshal(m.Interface())
	if err != nil {
		return nil, fmt.Errorf("printing google.protobuf.FieldMask: %w", err)
	}
	return append(b, js...), nil
}
