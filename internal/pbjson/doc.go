// Package pbjson prints protobuf messages as compact JSON, the same JSON
// protojson prints with UseProtoNames (field names as in the .proto, enums
// by name, 64-bit integers and bytes as strings, map keys sorted, the
// well-known types in their JSON forms), straight into one []byte.
//
// It exists for the webhook's hot path: protojson prints an Any by
// resolving its type and unmarshalling its bytes again, and writes
// whitespace that must then be removed. A Printer can instead be told the
// message each Any was packed from (Packed), so a bootstrap whose typed
// configs were never marshalled prints in a single walk of protoreflect.
// Any other Any is resolved and unmarshalled as protojson does.
package pbjson
