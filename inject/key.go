package inject

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"
)

// Key is a digest of what Patch reads of a review: the pod's JSON but for
// what decodePod skips and the API server writes differently for each pod
// of a ReplicaSet (metadata.managedFields, stamped with the second the pod
// was created in; the name of every volume not the injector's, as the
// service account's kube-api-access-xxxxx; the containers' volumeMounts,
// which mount it), and the namespace that stands in for the pod's own.
// Patch is a function of these and of the Injector's settings alone (no
// clock, no randomness, no lookups), so one Injector gives reviews of
// equal keys equal patches and results: the webhook answers every pod of
// a ReplicaSet after the first from the first one's answer.
type Key [sha256.Size]byte

// KeyOf returns the Key of raw reviewed in namespace; ok is false for a
// pod Patch refuses for its size or that is not a JSON object, which are
// to be answered afresh (and refused with Patch's own message).
func KeyOf(raw []byte, namespace string) (k Key, ok bool) {
	if len(raw) > MaxPodBytes {
		return k, false
	}
	cuts, err := unread(raw)
	if err != nil {
		return k, false
	}
	h := sha256.New()
	// Each part is preceded by its length, so that no two different
	// inputs are the same stream of bytes.
	var n [8]byte
	write := func(p []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	write([]byte(namespace))
	at := 0
	for _, c := range cuts {
		write(raw[at:c.start])
		at = c.end
	}
	write(raw[at:])
	h.Sum(k[:0])
	return k, true
}

// span is a value in the pod's JSON, from start to end.
type span struct{ start, end int }

// unread returns where, in raw, the values Key leaves out are, in order.
// A member named twice is left out only where the decoder reads it (the
// last): what stays in the key can only make it differ.
func unread(raw []byte) ([]span, error) {
	var cuts []span
	member := func(base int, obj []byte, name string) (span, bool, error) {
		start, end, ok, err := lastMember(obj, name)
		return span{base + start, base + end}, ok, err
	}
	if md, ok, err := member(0, raw, "metadata"); err != nil {
		return nil, err
	} else if ok && firstByte(raw[md.start:md.end]) == '{' {
		if mf, ok, err := member(md.start, raw[md.start:md.end], "managedFields"); err != nil {
			return nil, err
		} else if ok {
			cuts = append(cuts, mf)
		}
	}
	spec, ok, err := member(0, raw, "spec")
	if err != nil || !ok || firstByte(raw[spec.start:spec.end]) != '{' {
		return cuts, err
	}
	// each calls f with every object in the spec's list called name.
	each := func(name string, f func(el span) error) error {
		list, ok, err := member(spec.start, raw[spec.start:spec.end], name)
		if err != nil || !ok || firstByte(raw[list.start:list.end]) != '[' {
			return err
		}
		var inner error
		err = eachElement(raw[list.start:list.end], func(s, e int) {
			if el := (span{list.start + s, list.start + e}); inner == nil && raw[el.start] == '{' {
				inner = f(el)
			}
		})
		return cmp.Or(err, inner)
	}
	for _, list := range []string{"initContainers", "containers"} {
		if err := each(list, func(c span) error {
			mounts, ok, err := member(c.start, raw[c.start:c.end], "volumeMounts")
			if ok {
				cuts = append(cuts, mounts)
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	if err := each("volumes", func(v span) error {
		name, ok, err := member(v.start, raw[v.start:v.end], "name")
		if !ok || raw[name.start] != '"' {
			return err
		}
		if decoded, err := decodeKey(raw[name.start:name.end]); err == nil && !ownVolume(decoded) {
			cuts = append(cuts, name)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(cuts, func(a, b span) int { return a.start - b.start })
	return cuts, nil
}
