package pbjson_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/planeless/planeless/internal/pbjson"
)

// AssertPrintsAsProtojson checks that printer prints m as
// protojson.MarshalOptions{UseProtoNames: true} does: the same bytes once
// protojson's whitespace is compacted away, so the same JSON value, and
// JSON that protojson reads back into m.
func assertPrintsAsProtojson(t *testing.T, printer pbjson.Printer, m proto.Message) []byte {
	t.Helper()
	got, err := printer.Append(nil, m)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	want, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		t.Fatalf("protojson: %v", err)
	}
	var compacted bytes.Buffer
	if err := json.Compact(&compacted, want); err != nil {
		t.Fatalf("protojson printed invalid JSON: %v", err)
	}
	if !json.Valid(got) {
		t.Fatalf("printed invalid JSON:\n%s", got)
	}
	var gotValue, wantValue any
	if err := json.Unmarshal(got, &gotValue); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &wantValue); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotValue, wantValue) {
		t.Fatalf("printed a different JSON value:\n got %s\nwant %s", got, compacted.Bytes())
	}
	if !bytes.Equal(got, compacted.Bytes()) {
		t.Fatalf("printed the same value in other bytes:\n got %s\nwant %s", got, compacted.Bytes())
	}
	back := m.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal(got, back); err != nil {
		t.Fatalf("protojson cannot read it back: %v\n%s", err, got)
	}
	if !proto.Equal(back, m) {
		t.Fatalf("protojson reads back a different message from\n%s", got)
	}
	return got
}

func TestPrinterPrintsWhatProtojsonPrints(t *testing.T) {
	child := newKinds().set("a_string", "child").set("an_int32", int32(-3))
	tests := map[string]func(t *testing.T) proto.Message{
		"an empty message is an empty object": func(*testing.T) proto.Message { return newKinds().m },
		"zero scalars are left out": func(*testing.T) proto.Message {
			return newKinds().set("an_int32", int32(0)).set("a_string", "").set("a_bool", false).m
		},
		"every scalar kind in its JSON form, 64-bit integers as strings": func(*testing.T) proto.Message {
			return newKinds().set("an_int32", int32(math.MinInt32)).set("an_int64", int64(math.MinInt64)).
				set("a_uint32", uint32(math.MaxUint32)).set("a_uint64", uint64(math.MaxUint64)).
				set("a_sint32", int32(-7)).set("a_sint64", int64(-1<<40)).set("a_fixed32", uint32(7)).
				set("a_fixed64", uint64(1<<63)).set("an_sfixed32", int32(-1)).set("an_sfixed64", int64(-1<<62)).
				set("a_float", float32(1.25)).set("a_double", 0.1).set("a_bool", true).
				set("a_string", "plain").set("some_bytes", []byte{0, 1, 0xfe, 0xff, 'a'}).m
		},
		"floats in exponent form only when very small or very large": func(*testing.T) proto.Message {
			return newKinds().set("a_double", 1e-7).set("a_float", float32(3e21)).
				list("children", newKinds().set("a_double", 1e21), newKinds().set("a_double", 123456789.125),
					newKinds().set("a_double", -1e-300), newKinds().set("a_float", float32(1e-6)),
					newKinds().set("a_float", float32(0.1)), newKinds().set("a_double", 5e-324)).m
		},
		"NaN and the infinities are strings": func(*testing.T) proto.Message {
			return newKinds().set("a_double", math.NaN()).set("a_float", float32(math.Inf(-1))).
				set("child", newKinds().set("a_double", math.Inf(1))).m
		},
		"strings escape only quotes, backslashes and control characters": func(*testing.T) proto.Message {
			return newKinds().set("a_string", "say \"hi\" \\ <b>&amp;</b>\n\t\r\b\f\x00\x01\x1f\x7f é ✓ 😀 \u2028").m
		},
		"enums by name, an unnamed number as a number": func(*testing.T) proto.Message {
			return newKinds().set("a_color", protoreflect.EnumNumber(2)).
				list("colors", protoreflect.EnumNumber(0), protoreflect.EnumNumber(1), protoreflect.EnumNumber(9)).m
		},
		"an empty repeated field is left out, a repeated zero is kept": func(*testing.T) proto.Message {
			return newKinds().list("strings").list("int64s", int64(0), int64(-1)).list("children", newKinds()).m
		},
		"maps are printed with sorted keys": func(*testing.T) proto.Message {
			k := newKinds()
			for _, s := range []string{"zeta", "alpha", "Beta", "", "é", "a b", "10", "9"} {
				k.entry("by_string", s, int32(len(s)))
			}
			for _, n := range []int32{10, -5, 0, 2, math.MinInt32} {
				k.entry("by_int32", n, "v")
			}
			for _, n := range []int64{1 << 40, -1, 3} {
				k.entry("by_int64", n, protoreflect.EnumNumber(1))
			}
			for _, n := range []uint32{math.MaxUint32, 0, 7} {
				k.entry("by_uint32", n, n%2 == 1)
			}
			k.entry("by_bool", true, "yes").entry("by_bool", false, "no")
			k.entry("children_by_name", "b", child).entry("children_by_name", "a", newKinds())
			return k.m
		},
		"a oneof prints the member that is set, even at its zero value": func(*testing.T) proto.Message {
			return newKinds().set("chosen_string", "").list("children", newKinds().set("chosen_child", newKinds())).m
		},
		"a proto3 optional field set to zero is printed": func(*testing.T) proto.Message {
			return newKinds().set("maybe", int32(0)).m
		},
		"messages nest in messages, lists and maps": func(*testing.T) proto.Message {
			return newKinds().set("child", newKinds().set("child", child)).list("children", child, newKinds()).m
		},
		"durations with 0, 3, 6 or 9 decimals": func(*testing.T) proto.Message {
			k := newKinds().set("a_duration", durationpb.New(90*time.Second))
			for _, d := range []time.Duration{0, time.Millisecond, -1500 * time.Millisecond, 1500 * time.Nanosecond, time.Nanosecond, -time.Nanosecond, 100 * time.Hour} {
				k.list("children", newKinds().set("a_duration", durationpb.New(d)))
			}
			return k.m
		},
		"timestamps in RFC 3339, in UTC": func(*testing.T) proto.Message {
			k := newKinds().set("a_timestamp", timestamppb.New(time.Date(2026, 12, 3, 7, 18, 58, 500_000_000, time.FixedZone("x", 3600))))
			for _, ts := range []*timestamppb.Timestamp{{}, {Seconds: -62135596800}, {Seconds: 253402300799, Nanos: 999999999}, {Seconds: 1, Nanos: 1000}} {
				k.list("children", newKinds().set("a_timestamp", ts))
			}
			return k.m
		},
		"wrappers print their value, zero included": func(*testing.T) proto.Message {
			return newKinds().set("a_bool_value", wrapperspb.Bool(false)).set("a_uint32_value", wrapperspb.UInt32(0)).
				set("an_int64_value", wrapperspb.Int64(-1<<60)).set("a_double_value", wrapperspb.Double(math.NaN())).
				set("a_string_value", wrapperspb.String("")).set("a_bytes_value", wrapperspb.Bytes([]byte("hi"))).m
		},
		"structs, values and lists in their JSON forms": func(t *testing.T) proto.Message {
			s, err := structpb.NewStruct(map[string]any{
				"z": nil, "a": 1.5, "b": true, "s": "x", "list": []any{1.0, "two", nil, map[string]any{"k": []any{}}},
				"nested": map[string]any{"y": 1e30, "x": map[string]any{}},
			})
			if err != nil {
				t.Fatal(err)
			}
			return newKinds().set("a_struct", s).set("a_value", structpb.NewStringValue("v")).
				set("a_list_value", &structpb.ListValue{Values: []*structpb.Value{structpb.NewNullValue(), structpb.NewBoolValue(false)}}).m
		},
		"empty and a field mask": func(*testing.T) proto.Message {
			return newKinds().set("an_empty", &emptypb.Empty{}).set("a_field_mask", &fieldmaskpb.FieldMask{Paths: []string{"a_b.c", "d"}}).m
		},
		"an Any is its message with @type first": func(t *testing.T) proto.Message {
			return newKinds().set("an_any", mustAny(t, &durationpb.Duration{Seconds: 1})).
				list("anys", mustAny(t, &structpb.Struct{}), mustAny(t, &emptypb.Empty{}), mustAny(t, wrapperspb.String("n")),
					mustAny(t, &fieldmaskpb.FieldMask{}), mustAny(t, &anypb.Any{}), mustAny(t, mustAny(t, wrapperspb.Bool(true))),
					mustAny(t, structpb.NewNumberValue(2)), mustAny(t, &timestamppb.Timestamp{Seconds: 5})).m
		},
		"an Any of an ordinary message holds its fields": func(t *testing.T) proto.Message {
			inner := &descriptorpb.FieldDescriptorProto{Name: proto.String("in"), Number: proto.Int32(0),
				Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), Options: &descriptorpb.FieldOptions{}}
			return &anypb.Any{TypeUrl: "type.googleapis.com/google.protobuf.FieldDescriptorProto", Value: mustMarshal(t, inner)}
		},
		"proto2 fields set to their zero value are printed": func(*testing.T) proto.Message {
			return &descriptorpb.FileDescriptorProto{Name: proto.String(""), Options: &descriptorpb.FileOptions{JavaMultipleFiles: proto.Bool(false)},
				MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("M"), ReservedName: []string{}}}}
		},
		"an empty Any is an empty object":          func(*testing.T) proto.Message { return &anypb.Any{} },
		"a well-known type alone is its JSON form": func(*testing.T) proto.Message { return durationpb.New(-time.Millisecond) },
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			assertPrintsAsProtojson(t, pbjson.Printer{}, m(t))
		})
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An Any whose message Packed knows is printed from that message: its
// value is never read.
func TestPrinterPrintsAnAnyFromThePackedMessage(t *testing.T) {
	inner := wrapperspb.UInt32(7)
	lazy := &anypb.Any{TypeUrl: "type.googleapis.com/google.protobuf.UInt32Value"}
	packed := func(a *anypb.Any) proto.Message {
		if a == lazy {
			return inner
		}
		return nil
	}
	got, err := pbjson.Printer{Packed: packed}.Append(nil, lazy)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"@type":"type.googleapis.com/google.protobuf.UInt32Value","value":7}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	eager := mustAny(t, inner)
	assertPrintsAsProtojson(t, pbjson.Printer{Packed: packed}, eager)
}

func TestPrinterRefusesWhatProtojsonRefuses(t *testing.T) {
	tests := map[string]struct {
		printer pbjson.Printer
		m       proto.Message
		wantErr string
	}{
		"invalid UTF-8 in a string":       {m: wrapperspb.String("a\xffb"), wantErr: "UTF-8"},
		"an Any of an unknown type":       {m: &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type"}, wantErr: "no.such.Type"},
		"an Any with a value but no type": {m: &anypb.Any{Value: []byte{8, 1}}, wantErr: "type_url"},
		"an Any whose bytes are not its type": {
			m: &anypb.Any{TypeUrl: "type.googleapis.com/google.protobuf.Duration", Value: []byte{0xff}}, wantErr: "unmarshalling",
		},
		"a duration beyond 10,000 years":  {m: &durationpb.Duration{Seconds: 315576000001}, wantErr: "seconds out of range"},
		"a duration of mixed signs":       {m: &durationpb.Duration{Seconds: 1, Nanos: -1}, wantErr: "signs"},
		"a timestamp before the year one": {m: &timestamppb.Timestamp{Seconds: -62135596801}, wantErr: "seconds out of range"},
		"a timestamp with negative nanos": {m: &timestamppb.Timestamp{Nanos: -1}, wantErr: "nanos out of range"},
		"a value holding nothing":         {m: &structpb.Value{}, wantErr: "no kind"},
		"a value holding NaN":             {m: structpb.NewNumberValue(math.NaN()), wantErr: "no JSON number"},
		"a packed message of another type than its Any names": {
			printer: pbjson.Printer{Packed: func(*anypb.Any) proto.Message { return wrapperspb.Bool(true) }},
			m:       &anypb.Any{TypeUrl: "type.googleapis.com/google.protobuf.UInt32Value"},
			wantErr: "holds a packed google.protobuf.BoolValue",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.printer.Packed == nil {
				if _, err := (protojson.MarshalOptions{UseProtoNames: true}).Marshal(tc.m); err == nil {
					t.Fatalf("protojson prints it: the case is wrong")
				}
			}
			out, err := tc.printer.Append(nil, tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Append = %s, %v; want an error naming %q", out, err, tc.wantErr)
			}
		})
	}
}

func TestPrinterAppendsToWhatIsThere(t *testing.T) {
	got, err := pbjson.Printer{}.Append([]byte("x="), wrapperspb.Int64(5))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `x="5"` {
		t.Errorf("got %s", got)
	}
	if got, _ := (pbjson.Printer{}).Append(nil, nil); string(got) != "{}" {
		t.Errorf("a nil message printed as %s, want {}", got)
	}
}
