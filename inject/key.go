package inject

import (
	"crypto/sha256"
	"encoding/binary"
)

// Key is a digest of what Patch reads of a review: the pod's JSON, all of
// it but the value of metadata.managedFields (which decodePod skips), and
// the namespace that stands in for the pod's own. Patch is a function of
// these and of the Injector's settings alone (no clock, no randomness, no
// lookups), so one Injector gives reviews of equal keys equal patches and
// results: the webhook answers every pod of a ReplicaSet after the first
// from the first one's answer, the API server having written the same
// bytes for each (the name is generated after admission).
type Key [sha256.Size]byte

// KeyOf returns the Key of raw reviewed in namespace; ok is false for a
// pod Patch refuses for its size or that is not a JSON object, which are
// to be answered afresh (and refused with Patch's own message).
func KeyOf(raw []byte, namespace string) (k Key, ok bool) {
	if len(raw) > MaxPodBytes {
		return k, false
	}
	parts := [][]byte{raw}
	if mdStart, mdEnd, found, err := lastMember(raw, "metadata"); err != nil {
		return k, false
	} else if found {
		if start, end, found, err := lastMember(raw[mdStart:mdEnd], "managedFields"); err != nil {
			return k, false
		} else if found {
			parts = [][]byte{raw[:mdStart+start], raw[mdStart+end:]}
		}
	}
	h := sha256.New()
	// Each part is preceded by its length, so that no two different
	// inputs are the same stream of bytes.
	var n [8]byte
	for _, p := range append([][]byte{[]byte(namespace)}, parts...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	h.Sum(k[:0])
	return k, true
}
