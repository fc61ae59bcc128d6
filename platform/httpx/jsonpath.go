package httpx

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// encoding/json reports neither array indices nor the location of unknown
// fields. These helpers recover a readable path ("operations[2].rank") by
// walking the raw document, which the decoder has already found valid.

type segment struct {
	key   string // object member name; empty for an array element
	index int
}

type visitFunc func(path []segment, start, end int)

// walkValue scans the JSON value starting at or after i, calls visit for it
// and every value nested in it (children first), and returns its end offset.
func walkValue(b []byte, i int, path []segment, visit visitFunc) int {
	i = skipSpace(b, i)
	start := i
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '{':
		i = skipSpace(b, i+1)
		for i < len(b) && b[i] != '}' {
			keyEnd := stringEnd(b, i)
			var key string
			if err := json.Unmarshal(b[i:keyEnd], &key); err != nil {
				return len(b)
			}
			i = skipSpace(b, keyEnd)
			i = skipSpace(b, i+1) // the colon
			i = walkValue(b, i, append(path[:len(path):len(path)], segment{key: key}), visit)
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
			}
		}
		i++
	case '[':
		i = skipSpace(b, i+1)
		for n := 0; i < len(b) && b[i] != ']'; n++ {
			i = walkValue(b, i, append(path[:len(path):len(path)], segment{index: n}), visit)
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
			}
		}
		i++
	case '"':
		i = stringEnd(b, i)
	default:
		for i < len(b) && !strings.ContainsRune(",]} \t\r\n", rune(b[i])) {
			i++
		}
	}
	if i > len(b) {
		i = len(b)
	}
	visit(path, start, i)
	return i
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the offset just past the string literal starting at i.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// pathAt returns the path of the innermost value around a decoder offset
// (the decoder reports offsets just past a literal, or just inside the
// opening bracket of a composite value).
func pathAt(body []byte, offset int64) []segment {
	var best []segment
	found := false
	walkValue(body, 0, nil, func(path []segment, start, end int) {
		if int64(start) < offset && offset <= int64(end) && (!found || len(path) > len(best)) {
			best, found = path, true
		}
	})
	return best
}

// lastKey is the last member name in path, ignoring array indices.
func lastKey(path []segment) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i].key != "" {
			return path[i].key
		}
	}
	return ""
}

// unknownFieldPath finds where the decoder met the unknown member name: the
// first object holding it whose Go type has no such field.
func unknownFieldPath(body []byte, root reflect.Type, name string) string {
	result := ""
	walkValue(body, 0, nil, func(path []segment, _, _ int) {
		n := len(path)
		if result != "" || n == 0 || path[n-1].key != name {
			return
		}
		if t, ok := resolve(root, path[:n-1]); ok && t.Kind() == reflect.Struct {
			if _, has := structField(t, name); !has {
				result = formatPath(path)
			}
		}
	})
	if result == "" {
		return name
	}
	return result
}

// nullFieldPath finds the first null given to a field that cannot hold one: encoding/json
// leaves such a field at its zero value, which would make `"title": null` the same as an
// empty title. A pointer, an interface, json.RawMessage or a custom unmarshaler may take
// null, and so may a slice or a map (no items: what Go clients send for a nil slice);
// "" means none was found.
func nullFieldPath(body []byte, root reflect.Type) string {
	result := ""
	walkValue(body, 0, nil, func(path []segment, start, end int) {
		n := len(path)
		if result != "" || n == 0 || string(body[start:end]) != "null" {
			return
		}
		parent, ok := resolve(root, path[:n-1])
		if !ok {
			return
		}
		var t reflect.Type
		switch seg := path[n-1]; {
		case seg.key == "" && (parent.Kind() == reflect.Slice || parent.Kind() == reflect.Array):
			t = parent.Elem()
		case seg.key != "" && parent.Kind() == reflect.Map:
			t = parent.Elem()
		case seg.key != "" && parent.Kind() == reflect.Struct:
			if t, ok = structField(parent, seg.key); !ok {
				return
			}
		default:
			return
		}
		switch t.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			return
		}
		if !reflect.PointerTo(t).Implements(unmarshalerType) {
			result = formatPath(path)
		}
	})
	return result
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// resolve follows path through t the way encoding/json would; it gives up
// where a custom unmarshaler or an interface takes over.
func resolve(t reflect.Type, path []segment) (reflect.Type, bool) {
	for i := 0; ; i++ {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil, false
		}
		if i == len(path) {
			return t, true
		}
		seg := path[i]
		switch {
		case seg.key == "" && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			t = t.Elem()
		case seg.key != "" && t.Kind() == reflect.Map:
			t = t.Elem()
		case seg.key != "" && t.Kind() == reflect.Struct:
			ft, ok := structField(t, seg.key)
			if !ok {
				return nil, false
			}
			t = ft
		default:
			return nil, false
		}
	}
}

// structField finds the field encoding/json would fill for key: an exact
// name before a case-insensitive one, and a struct's own fields before
// those promoted from embedded structs.
func structField(t reflect.Type, key string) (reflect.Type, bool) {
	var embedded []reflect.Type
	var folded reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
		if folded == nil && strings.EqualFold(name, key) {
			folded = f.Type
		}
	}
	if folded != nil {
		return folded, true
	}
	for _, et := range embedded {
		if ft, ok := structField(et, key); ok {
			return ft, true
		}
	}
	return nil, false
}

func formatPath(path []segment) string {
	var b strings.Builder
	for _, s := range path {
		if s.key == "" {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}
