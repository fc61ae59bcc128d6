package textrule

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	rule := Rule{Name: "title", Max: 10}
	s := "  Cafe\u0301 "
	if p := Clean("title", &s, rule, true); p != nil || s != "Café" {
		t.Errorf("cleaned to %q, problem %v", s, p)
	}
	for _, tc := range []struct {
		in       string
		required bool
		want     string
	}{
		{"a\x00b", false, "control character"},
		{"a\u202eb", false, "bidirectional"},
		{strings.Repeat("x", 11), false, "at most 10"},
		{"   ", true, "is required"},
	} {
		s := tc.in
		p := Clean("title", &s, rule, tc.required)
		if p == nil || p.Field != "title" || !strings.Contains(p.Message, tc.want) {
			t.Errorf("%q: problem %v, want one saying %q", tc.in, p, tc.want)
		}
		if s != tc.in {
			t.Errorf("%q was changed to %q although refused", tc.in, s)
		}
	}
	empty := ""
	if p := Clean("title", &empty, rule, false); p != nil {
		t.Errorf("an optional empty text is refused: %v", p)
	}
}
