package hostiletest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestVariants(t *testing.T) {
	vs, err := Variants(`{"title":"ok","ops":[{"rank":1}]}`)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Variant{}
	for _, v := range vs {
		byName[v.Name] = v
	}
	for name, want := range map[string]string{
		"title: NUL":           `{"ops":[{"rank":1}],"title":"a\u0000b"}`,
		"title: removed":       `{"ops":[{"rank":1}]}`,
		"ops[0].rank: 2^62":    `{"ops":[{"rank":4611686018427387904}],"title":"ok"}`,
		"ops[0].rank: removed": `{"ops":[{}],"title":"ok"}`,
		"ops: object":          `{"ops":{},"title":"ok"}`,
	} {
		if got := string(byName[name].Body); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if v := byName["title: invalid UTF-8"]; !v.MustRefuse || !bytes.Contains(v.Body, []byte{0xff}) {
		t.Errorf("invalid UTF-8 variant %q", v.Body)
	}
	if _, ok := byName["ops[0].rank: NUL"]; ok {
		t.Error("a number was given texts")
	}
	if byName["title: markup"].MustRefuse || byName["ops[0].rank: -1"].MustRefuse {
		t.Error("only the refused texts must be refused")
	}
}

// recorder is a T that keeps what Run reports.
type recorder struct{ errors []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) { r.errors = append(r.errors, fmt.Sprint(args...)) }

func TestRunReportsFailures(t *testing.T) {
	var r recorder
	// A route that accepts everything, and breaks on an empty title.
	n := Run(&r, `{"title":"ok"}`, func(body []byte) int {
		if strings.Contains(string(body), `"title":""`) {
			return 500
		}
		return 201
	})
	if n == 0 {
		t.Fatal("no variant sent")
	}
	joined := strings.Join(r.errors, "\n")
	for _, want := range []string{"title: empty: 500", "title: NUL: accepted (201)", "title: invalid UTF-8: accepted (201)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("reports %q, missing %q", joined, want)
		}
	}
	var clean recorder
	Run(&clean, `{"title":"ok"}`, func(body []byte) int {
		if bytes.Contains(body, []byte(`"title":"ok"`)) {
			return 201
		}
		return 422
	})
	if len(clean.errors) != 0 {
		t.Errorf("a route that refuses every change reported %q", clean.errors)
	}
}
