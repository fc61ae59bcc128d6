// Package hostiletest is a battery of hostile inputs for the JSON write routes. From a
// valid body it makes variants where one place at a time takes a hostile value: every
// string a text the platform must refuse (control characters, NUL, a bidirectional
// override, invalid UTF-8, a text longer than any field allows) or one it must survive
// (empty, blank, markup, SQL), every number an absurd one, every value the wrong type,
// every field removed. A route holds when no variant gets a 5xx and no text it must
// refuse is accepted.
package hostiletest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
)

// Variant is a body with one hostile change.
type Variant struct {
	// Name says what changed where: `operations[0].libelle: NUL`.
	Name string
	Body []byte
	// MustRefuse: the route may not accept it (a 2xx is a defect).
	MustRefuse bool
}

// refusedTexts are texts no field takes. The invalid UTF-8 is written raw in the body.
var refusedTexts = []struct{ name, json string }{
	{"NUL", `"a\u0000b"`},
	{"BEL", `"a\u0007b"`},
	{"C1 control", `"a\u0085b"`},
	{"right-to-left override", `"a\u202Eb"`},
	{"invalid UTF-8", "\"a\xffb\""},
	{"100,001 characters", `"` + strings.Repeat("x", 100_001) + `"`},
}

// survivedTexts are texts a field may take or refuse, but never with a 5xx.
var survivedTexts = []struct{ name, json string }{
	{"empty", `""`},
	{"blank", `"  \t "`},
	{"markup", `"<script>alert(1)</script>"`},
	{"SQL", `"'; DROP TABLE requests; --"`},
	{"decomposed accents", `"De\u0301veloppeur"`},
	{"emoji", `"🦀"`},
	{"newlines", `"a\r\nb\nc"`},
}

// otherValues replace any value: absurd numbers and the wrong types.
var otherValues = []struct{ name, json string }{
	{"-1", `-1`},
	{"0", `0`},
	{"2^62", `4611686018427387904`},
	{"1e308", `1e308`},
	{"1.5", `1.5`},
	{"null", `null`},
	{"true", `true`},
	{"object", `{}`},
	{"array", `[]`},
	{"a string", `"x"`},
}

// Variants makes the battery's variants of a valid JSON body.
func Variants(valid string) ([]Variant, error) {
	var root any
	dec := json.NewDecoder(strings.NewReader(valid))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("hostiletest: the valid body is not JSON: %w", err)
	}
	var out []Variant
	var walk func(path string, v any, replace func(raw string) string, remove func() string)
	walk = func(path string, v any, replace func(raw string) string, remove func() string) {
		if path != "" {
			if _, isString := v.(string); isString {
				for _, t := range refusedTexts {
					out = append(out, Variant{Name: path + ": " + t.name, Body: []byte(replace(t.json)), MustRefuse: true})
				}
				for _, t := range survivedTexts {
					out = append(out, Variant{Name: path + ": " + t.name, Body: []byte(replace(t.json))})
				}
			}
			for _, o := range otherValues {
				out = append(out, Variant{Name: path + ": " + o.name, Body: []byte(replace(o.json))})
			}
			if remove != nil {
				out = append(out, Variant{Name: path + ": removed", Body: []byte(remove())})
			}
		}
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				child := x[k]
				walk(join(path, k), child, func(raw string) string {
					x[k] = json.RawMessage(raw)
					defer func() { x[k] = child }()
					return encode(root)
				}, func() string {
					delete(x, k)
					defer func() { x[k] = child }()
					return encode(root)
				})
			}
		case []any:
			for i := range x {
				child := x[i]
				walk(fmt.Sprintf("%s[%d]", path, i), child, func(raw string) string {
					x[i] = json.RawMessage(raw)
					defer func() { x[i] = child }()
					return encode(root)
				}, nil)
			}
		}
	}
	walk("", root, nil, nil)
	return out, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// encode writes the body back, leaving the raw hostile values as they are (invalid UTF-8
// included: json.Marshal would replace it).
func encode(v any) string {
	var b bytes.Buffer
	var write func(v any)
	write = func(v any) {
		switch x := v.(type) {
		case json.RawMessage:
			b.Write(x)
		case map[string]any:
			b.WriteByte('{')
			for i, k := range sortedKeys(x) {
				if i > 0 {
					b.WriteByte(',')
				}
				key, _ := json.Marshal(k)
				b.Write(key)
				b.WriteByte(':')
				write(x[k])
			}
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					b.WriteByte(',')
				}
				write(e)
			}
			b.WriteByte(']')
		default:
			raw, _ := json.Marshal(x)
			b.Write(raw)
		}
	}
	write(v)
	return b.String()
}

// Send sends a body to the route and answers its status.
type Send func(body []byte) int

// Handler sends the bodies to h, in process, as method on path with the bearer token
// (none when empty).
func Handler(h http.Handler, method, path, token string) Send {
	return func(body []byte) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(method, path, token, body))
		return rec.Code
	}
}

// Server sends the bodies to a running server at url (its base URL and the route's path),
// with the bearer token. A request that fails to go out panics: it is the test's setup.
func Server(method, url, token string) Send {
	return func(body []byte) int {
		res, err := http.DefaultClient.Do(request(method, url, token, body))
		if err != nil {
			panic("hostiletest: " + err.Error())
		}
		res.Body.Close()
		return res.StatusCode
	}
}

func request(method, url, token string, body []byte) *http.Request {
	req := httptest.NewRequest(method, url, bytes.NewReader(body))
	req.RequestURI = "" // a client request, when sent by http.Client
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// T is the part of testing.TB that Run reports to.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatal(args ...any)
}

// Run sends every variant of valid to the route and fails t for each 5xx and each
// accepted text that must be refused. It reports how many variants it sent.
func Run(t T, valid string, send Send) int {
	t.Helper()
	variants, err := Variants(valid)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range variants {
		status := send(v.Body)
		switch {
		case status >= http.StatusInternalServerError:
			t.Errorf("%s: %d", v.Name, status)
		case v.MustRefuse && status < http.StatusBadRequest:
			t.Errorf("%s: accepted (%d)", v.Name, status)
		}
	}
	return len(variants)
}
