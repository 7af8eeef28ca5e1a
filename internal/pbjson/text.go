package pbjson

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

var errInvalidUTF8 = errors.New("invalid UTF-8")

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Only what JSON requires is
// escaped (quotes, backslashes, control characters), as protojson does:
// '<', '>' and '&' stay as they are. Invalid UTF-8 is an error, as for
// protojson, rather than replaced.
func appendString(b []byte, s string) ([]byte, error) {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, errInvalidUTF8
			}
			i += n
			continue
		}
		if c >= ' ' && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}

// appendFloat appends a float of bitSize bits as the shortest decimal that
// reads back to it, in exponent form only for very small or very large
// magnitudes (as JavaScript prints numbers), and NaN and the infinities as
// the strings proto3 JSON gives them.
func appendFloat(b []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
		bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bitSize)
	if format == 'e' {
		// strconv writes two exponent digits at least ("1e-07"); JSON's
		// readers and protojson write "1e-7".
		if e := len(b) - 4; e > start && b[e] == 'e' && b[e+2] == '0' {
			b[e+2] = b[e+3]
			b = b[:len(b)-1]
		}
	}
	return b
}
