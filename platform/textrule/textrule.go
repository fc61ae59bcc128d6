// Package textrule is the platform's text hygiene: the one check every boundary applies to
// the texts people (and tokens) send, before anything is stored or run. A text is refused,
// never repaired, when it is not valid UTF-8, carries a control character or a
// bidirectional control, or is too long; otherwise it is kept cleaned: CR+LF folded to LF,
// surrounding space trimmed, NFC-normalised. The request contract (workflows/request)
// names its fields' rules on top of it.
package textrule

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Rule is what a text field accepts: one line or several, and how many characters.
type Rule struct {
	Name      string // what the field is, for messages: "libellé", "text"…
	Multiline bool   // tabs and line breaks (LF; CR+LF is folded to LF) are allowed
	Max       int    // characters, after cleaning
}

func (r Rule) String() string {
	lines := "single-line"
	if r.Multiline {
		lines = "multi-line"
	}
	name := r.Name
	if name == "" {
		name = "text"
	}
	return fmt.Sprintf("a %s %s of at most %d characters", lines, name, r.Max)
}

// Problem is a field that breaks its rule: the field's path (e.g.
// "operations[2].libelle") and what is wrong, for a 422 answer.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return p.Field + ": " + p.Message }

// Clean replaces *s with its cleaned text (Check), or leaves it as it was and returns the
// problem; required also refuses an empty text.
func Clean(field string, s *string, rule Rule, required bool) *Problem {
	clean, p := Check(field, *s, rule)
	switch {
	case p != nil:
		return p
	case required && clean == "":
		return &Problem{Field: field, Message: "is required (" + rule.String() + ")"}
	}
	*s = clean
	return nil
}

// Check applies rule to the value of field: it returns the cleaned text (CR+LF folded
// to LF, surrounding space trimmed, NFC), or the problem that makes it unacceptable. An
// empty text passes: whether the field is required is the caller's business.
func Check(field, value string, rule Rule) (string, *Problem) {
	refuse := func(format string, args ...any) (string, *Problem) {
		return "", &Problem{Field: field, Message: fmt.Sprintf(format, args...) + " (" + rule.String() + ")"}
	}
	if !utf8.ValidString(value) {
		at := 0
		for i, r := range value {
			if r == utf8.RuneError {
				if _, size := utf8.DecodeRuneInString(value[i:]); size <= 1 {
					break
				}
			}
			at++
		}
		return refuse("is not valid UTF-8 (at character %d)", at+1)
	}
	if rule.Multiline {
		value = strings.ReplaceAll(value, "\r\n", "\n")
	}
	n := 0
	for _, r := range value {
		n++
		switch {
		case (r == '\t' || r == '\n' || r == '\r') && !rule.Multiline:
			return refuse("contains a %s at character %d: tabs and line breaks are not allowed in a single-line field", controlName(r), n)
		case r == '\t' || r == '\n':
		case r == '\r':
			return refuse("contains a carriage return (U+000D) at character %d: line breaks are LF or CR+LF", n)
		case unicode.IsControl(r): // C0, DEL and C1
			return refuse("contains the control character %U at character %d", r, n)
		case isBidiControl(r):
			return refuse("contains the bidirectional control %U at character %d, which can disguise how the text reads", r, n)
		case r == utf8.RuneError:
			// What a JSON decoder makes of invalid UTF-8: the text was not valid UTF-8.
			return refuse("contains the replacement character U+FFFD at character %d: the text was not valid UTF-8", n)
		}
	}
	clean := norm.NFC.String(strings.TrimSpace(value))
	if length := utf8.RuneCountInString(clean); length > rule.Max {
		return refuse("must have at most %d characters (it has %d)", rule.Max, length)
	}
	return clean, nil
}

func controlName(r rune) string {
	switch r {
	case '\t':
		return "tab (U+0009)"
	case '\r':
		return "carriage return (U+000D)"
	}
	return "line break (U+000A)"
}

// isBidiControl tells the Unicode bidirectional formatting characters apart: embeddings and
// overrides (U+202A–U+202E), isolates (U+2066–U+2069), the marks (U+200E, U+200F) and the
// Arabic letter mark (U+061C).
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}
