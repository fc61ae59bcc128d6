package ftcompat

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// Encoded is a value of type T encoded ahead of time: it is written as is, and champs
// selectors are checked against T. Lists are assembled from the documents each fiche
// already has encoded, so that a list is never re-rendered.
type Encoded[T any] []byte

// MarshalJSON writes the encoding.
func (e Encoded[T]) MarshalJSON() ([]byte, error) { return e, nil }

// SchemaType is T.
func (Encoded[T]) SchemaType() reflect.Type { return reflect.TypeFor[T]() }

// Project narrows an encoded answer (an object, or an array of objects, as encoding/json
// writes them) to the selection, keeping the fields in their order. It works on the bytes,
// without decoding: the lists of the whole referential are projected in milliseconds.
func (s *Selector) Project(src []byte) []byte {
	out := make([]byte, 0, len(src)/4)
	out, _ = s.value(src, skipSpace(src, 0), out)
	return out
}

// value writes the projection of the value at src[i:] and returns the index after it.
func (s *Selector) value(src []byte, i int, out []byte) ([]byte, int) {
	switch src[i] {
	case '{':
		return s.object(src, i, out)
	case '[':
		out = append(out, '[')
		i = skipSpace(src, i+1)
		for first := true; src[i] != ']'; first = false {
			if !first {
				out = append(out, ',')
			}
			out, i = s.value(src, i, out)
			i = skipSpace(src, i)
			if src[i] == ',' {
				i = skipSpace(src, i+1)
			}
		}
		return append(out, ']'), i + 1
	}
	end := skipValue(src, i)
	return append(out, src[i:end]...), end
}

// object writes the selected members of the object at src[i:].
func (s *Selector) object(src []byte, i int, out []byte) ([]byte, int) {
	typ := typeOf(src, i) // a compétence keeps its type, selected or not
	out = append(out, '{')
	first := true
	var lower [64]byte
	i = skipSpace(src, i+1)
	for src[i] != '}' {
		keyStart := i
		keyEnd := skipValue(src, i)
		key := src[keyStart+1 : keyEnd-1]
		i = skipSpace(src, keyEnd)
		i = skipSpace(src, i+1) // ':'
		valEnd := skipValue(src, i)
		n := copy(lower[:], key)
		for k := range n {
			if c := lower[k]; 'A' <= c && c <= 'Z' {
				lower[k] = c + 'a' - 'A'
			}
		}
		name := lower[:n]
		sub, keep := s.fields[string(name)]
		if !keep && typ != "" {
			sub, keep = s.field(string(name), typ)
		}
		if string(name) == "type" && typ != "" {
			keep, sub = true, nil // the API always sends a compétence's type
		}
		if keep {
			if !first {
				out = append(out, ',')
			}
			first = false
			out = append(out, src[keyStart:keyEnd]...)
			out = append(out, ':')
			if sub == nil {
				out = append(out, src[i:valEnd]...)
			} else {
				out, _ = sub.value(src, i, out)
			}
		}
		i = skipSpace(src, valEnd)
		if src[i] == ',' {
			i = skipSpace(src, i+1)
		}
	}
	return append(out, '}'), i + 1
}

// typeOf returns the compétence type of the object at src[i:], or "": the compétence
// structs declare their type first, so it is the first member when there is one.
func typeOf(src []byte, i int) string {
	i = skipSpace(src, i+1)
	if !bytes.HasPrefix(src[i:], []byte(`"type"`)) {
		return ""
	}
	i = skipSpace(src, skipSpace(src, i+len(`"type"`))+1)
	if src[i] != '"' {
		return ""
	}
	var typ string
	if json.Unmarshal(src[i:skipValue(src, i)], &typ) != nil {
		return ""
	}
	return typ
}

func skipSpace(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\n' || src[i] == '\t' || src[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index after the JSON value at src[i:].
func skipValue(src []byte, i int) int {
	switch src[i] {
	case '"':
		for i++; ; i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch src[i] {
			case '"':
				i = skipValue(src, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(src) && src[i] != ',' && src[i] != '}' && src[i] != ']' && src[i] != ' ' && src[i] != '\n' {
		i++
	}
	return i
}
