package request

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text hygiene: the one rule every boundary (the intake, the referential's change sets, the
// notifications service) applies to the texts people send, before anything is stored or
// run. A text is refused, never repaired, when it is not valid UTF-8, carries a control
// character or a bidirectional control, or is too long; otherwise it is stored cleaned:
// CR+LF folded to LF, surrounding space trimmed, NFC-normalised.

// Limits, in characters (Unicode code points, after cleaning). The official ROME 4.0
// v460 files (shared/data/rome4) measure, in characters:
//   - libellés: compétence 253 (unix_referentiel_competence), savoir 252, item 253,
//     appellation long 137 (unix_referentiel_appellation), fiche 103
//     (unix_referentiel_code_rome), contexte de travail 101;
//   - libellés courts: appellation court 60;
//   - texts: a fiche's définition 1,660 and accès à l'emploi 1,200 (the sentences of
//     unix_texte joined by line breaks; one sentence at most 756).
//
// So a libellé takes 400 (not 250: official compétences and savoirs exceed 250), a libellé
// court 150 and a text 10,000, each with a wide margin.
//
// Three official values carry C1 control characters (mojibake of Windows-1252: U+0092 for
// an apostrophe in one item/savoir libellé, U+009C for "œ" in one accès à l'emploi
// sentence): they stay as they are in the referential, but the rule refuses them when sent
// again.
const (
	MaxLibelle           = 400    // appellation, compétence, savoir and fiche labels
	MaxLibelleCourt      = 150    // an appellation's short label
	MaxTitle             = 200    // a request's title
	MaxText              = 10_000 // définition, accès à l'emploi, justification, messages, questions, answers, reasons, rationales, a notification's text
	MaxIdentifier        = 64     // codes and ids carried in operations (code OGR, code ROME, operation id, categorie…)
	MaxNotificationTitle = 300    // a notification's title: it quotes the request's title
)

// TextRule is what a text field accepts: one line or several, and how many characters.
type TextRule struct {
	Name      string // what the field is, for messages: "libellé", "text"…
	Multiline bool   // tabs and line breaks (LF; CR+LF is folded to LF) are allowed
	Max       int    // characters, after cleaning
}

// The rules of the platform's text fields.
var (
	LibelleRule           = TextRule{Name: "libellé", Max: MaxLibelle}
	LibelleCourtRule      = TextRule{Name: "libellé court", Max: MaxLibelleCourt}
	TitleRule             = TextRule{Name: "title", Max: MaxTitle}
	LongTextRule          = TextRule{Name: "text", Multiline: true, Max: MaxText}
	IdentifierRule        = TextRule{Name: "code or value", Max: MaxIdentifier}
	NotificationTitleRule = TextRule{Name: "title", Max: MaxNotificationTitle}
)

func (r TextRule) String() string {
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

// FieldProblem is a field that breaks its rule: the field's path (e.g.
// "operations[2].libelle") and what is wrong, for a 422 answer.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *FieldProblem) Error() string { return p.Field + ": " + p.Message }

// CheckText applies rule to the value of field: it returns the cleaned text (CR+LF folded
// to LF, surrounding space trimmed, NFC), or the problem that makes it unacceptable. An
// empty text passes: whether the field is required is the caller's business.
func CheckText(field, value string, rule TextRule) (string, *FieldProblem) {
	refuse := func(format string, args ...any) (string, *FieldProblem) {
		return "", &FieldProblem{Field: field, Message: fmt.Sprintf(format, args...) + " (" + rule.String() + ")"}
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

// CleanOperation applies the text rules to every text of an operation, in place: its
// labels and texts, and the codes and ids it carries. field is the operation's path in
// the body ("operations[2]"); problems name the offending field under it
// ("operations[2].libelle"). A field that breaks its rule is left as it was.
func CleanOperation(field string, op *Operation) []FieldProblem {
	var problems []FieldProblem
	check := func(name string, s *string, rule TextRule) {
		if s == nil || *s == "" {
			return
		}
		clean, p := CheckText(field+"."+name, *s, rule)
		if p != nil {
			problems = append(problems, *p)
			return
		}
		*s = clean
	}
	checkPtr := func(name string, s **string, rule TextRule) {
		if *s == nil {
			return
		}
		v := **s
		check(name, &v, rule)
		*s = &v
	}
	check("id", &op.ID, IdentifierRule)
	check("codeOgr", &op.CodeOgr, IdentifierRule)
	check("libelle", &op.Libelle, LibelleRule)
	check("libelleCourt", &op.LibelleCourt, LibelleCourtRule)
	check("domaineProfessionnel", &op.DomaineProfessionnel, IdentifierRule)
	check("definition", &op.Definition, LongTextRule)
	check("accesEmploi", &op.AccesEmploi, LongTextRule)
	if p := op.AppellationPrincipale; p != nil {
		c := *p
		check("appellationPrincipale.codeOgr", &c.CodeOgr, IdentifierRule)
		check("appellationPrincipale.libelle", &c.Libelle, LibelleRule)
		check("appellationPrincipale.libelleCourt", &c.LibelleCourt, LibelleCourtRule)
		op.AppellationPrincipale = &c
	}
	check("replacedBy", &op.ReplacedBy, IdentifierRule)
	check("reason", &op.Reason, LongTextRule)
	check("toCodeRome", &op.ToCodeRome, IdentifierRule)
	checkPtr("coeurMetier", &op.CoeurMetier, IdentifierRule)
	if n := op.New; n != nil {
		c := *n
		check("new.libelle", &c.Libelle, LibelleRule)
		check("new.macroCompetenceCodeOgr", &c.MacroCompetenceCodeOgr, IdentifierRule)
		check("new.categorie", &c.Categorie, IdentifierRule)
		op.New = &c
	}
	check("field", &op.Field, IdentifierRule)
	check("text", &op.Text, LongTextRule)
	checkPtr("transitionEcologique", &op.TransitionEcologique, IdentifierRule)
	return problems
}

// CleanOperations applies CleanOperation to each operation of a list, in place; field is
// the list's path in the body ("operations").
func CleanOperations(field string, ops []Operation) []FieldProblem {
	var problems []FieldProblem
	for i := range ops {
		problems = append(problems, CleanOperation(fmt.Sprintf("%s[%d]", field, i), &ops[i])...)
	}
	return problems
}
