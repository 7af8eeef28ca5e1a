package inject

import (
	"bytes"
	"encoding/json"
	"errors"
)

// members splits a JSON object one level deep into sub-slices of its text,
// without copying or decoding the values: Patch learns which members the
// raw pod has (metadata, spec) without reading them twice. The text is
// known to be valid JSON (the pod decoded); an error means it is not.

var errSplit = errors.New("malformed JSON")

func members(obj []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := eachMember(obj, func(key string, start, end int) {
		out[key] = obj[start:end:end] // later keys win, as in encoding/json
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lastMember returns where the value of obj's last member named name
// starts and ends in obj: the one a decoder keeps.
func lastMember(obj []byte, name string) (start, end int, ok bool, err error) {
	err = eachMember(obj, func(key string, s, e int) {
		if key == name {
			start, end, ok = s, e, true
		}
	})
	return start, end, ok && err == nil, err
}

// eachMember calls f with the name of each member of obj, in order, and
// where its value starts and ends in obj.
func eachMember(obj []byte, f func(key string, start, end int)) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return errSplit
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for {
		end, err := skipString(obj, i)
		if err != nil {
			return err
		}
		key, err := decodeKey(obj[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return errSplit
		}
		start := skipSpace(obj, i+1)
		end, err = skipValue(obj, start)
		if err != nil {
			return err
		}
		f(key, start, end)
		i = skipSpace(obj, end)
		if i >= len(obj) {
			return errSplit
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return nil
		default:
			return errSplit
		}
	}
}

// eachElement calls f with where each element of the array arr starts
// and ends in arr.
func eachElement(arr []byte, f func(start, end int)) error {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return errSplit
	}
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return nil
	}
	for {
		end, err := skipValue(arr, i)
		if err != nil {
			return err
		}
		f(i, end)
		i = skipSpace(arr, end)
		if i >= len(arr) {
			return errSplit
		}
		switch arr[i] {
		case ',':
			i = skipSpace(arr, i+1)
		case ']':
			return nil
		default:
			return errSplit
		}
	}
}

func decodeKey(quoted []byte) (string, error) {
	plain := true
	for _, c := range quoted[1 : len(quoted)-1] {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var key string
	err := json.Unmarshal(quoted, &key)
	return key, err
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at i.
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errSplit
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errSplit
}

// skipValue returns the index after the value starting at i.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSplit
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
		}
		return 0, errSplit
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	if i == start {
		return 0, errSplit
	}
	return i, nil
}

func isObject(v []byte) bool { return firstByte(v) == '{' }

func firstByte(v []byte) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	return v[0]
}
