package inject

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
)

// The injector works on a typed pod, but what it returns must be the
// object it was given with exactly the injection's changes: decoding into
// corev1.Pod and encoding again drops fields this binary does not know and
// adds fields the user never wrote (creationTimestamp: null, resources: {}),
// and a patch computed against that re-encoding would carry both.
//
// merge applies to the raw object r what changed between before (the typed
// pod decoded from r, encoded again) and after (the injected pod, encoded):
// every value injection changed or added comes from after, every value it
// removed goes, and everything else is r's own text, untouched: unknown
// fields, empty objects ({} stays {}), numbers as written. Lists whose
// elements all carry a unique name (containers, volumes, env) are merged
// element by element, by name, in after's order; other lists are r's when
// injection did not change them and after's when it did.
//
// before and after are encodings of the same Go types, so a value
// injection did not touch is the same text in both: merge compares texts
// and decodes one level at a time, only along what changed. A pod's
// environment, volumes and everything else injection leaves alone are
// never decoded.
func merge(r, before, after []byte) ([]byte, error) {
	if bytes.Equal(before, after) {
		return r, nil
	}
	switch {
	case isObject(after) && isObject(before):
		a, err := members(after)
		if err != nil {
			return nil, err
		}
		b, err := members(before)
		if err != nil {
			return nil, err
		}
		out := map[string][]byte{}
		if isObject(r) {
			if out, err = members(r); err != nil {
				return nil, err
			}
		}
		for k, av := range a {
			bv, inBefore := b[k]
			switch {
			case !inBefore:
				out[k] = av
			case bytes.Equal(bv, av):
				// unchanged: r's value, or nothing where r had none
			default:
				merged, err := merge(out[k], bv, av)
				if err != nil {
					return nil, err
				}
				out[k] = merged
			}
		}
		for k := range b {
			if _, kept := a[k]; !kept {
				delete(out, k)
			}
		}
		return writeObject(out)
	case isArray(after) && isArray(before) && isArray(r):
		var a, b, rl [][]byte
		for _, d := range []struct {
			text []byte
			into *[][]byte
		}{{after, &a}, {before, &b}, {r, &rl}} {
			list, err := elements(d.text)
			if err != nil {
				return nil, err
			}
			*d.into = list
		}
		bIndex, _ := byName(b)
		_, aNames := byName(a)
		if bIndex == nil || aNames == nil || len(rl) != len(b) {
			return after, nil
		}
		out := make([][]byte, len(a))
		for i, av := range a {
			j, found := bIndex[aNames[i]]
			if !found {
				out[i] = av
				continue
			}
			merged, err := merge(rl[j], b[j], av)
			if err != nil {
				return nil, err
			}
			out[i] = merged
		}
		return writeArray(out), nil
	}
	return after, nil
}

// byName indexes a list whose elements are all objects with a unique string
// "name": the position of each name, and the name of each element. Both are
// nil for any other list.
func byName(list [][]byte) (index map[string]int, names []string) {
	index = make(map[string]int, len(list))
	names = make([]string, len(list))
	for i, e := range list {
		var named struct {
			Name *string `json:"name"`
		}
		if !isObject(e) || json.Unmarshal(e, &named) != nil || named.Name == nil {
			return nil, nil
		}
		if _, dup := index[*named.Name]; dup {
			return nil, nil
		}
		index[*named.Name], names[i] = i, *named.Name
	}
	return index, names
}

// writeObject and writeArray join values that are JSON texts already
// (parts of r or of after), without the validation and compaction
// json.Marshal would spend on each of them at every level.
func writeObject(m map[string][]byte) ([]byte, error) {
	keys := slices.Sorted(maps.Keys(m))
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(valueOrNull(m[k]))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeArray(list [][]byte) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, v := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(valueOrNull(v))
	}
	b.WriteByte(']')
	return b.Bytes()
}

func valueOrNull(v []byte) []byte {
	if len(v) == 0 {
		return []byte("null")
	}
	return v
}

func isObject(v []byte) bool { return firstByte(v) == '{' }
func isArray(v []byte) bool  { return firstByte(v) == '[' }

func firstByte(v []byte) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	return v[0]
}
