package request

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// OverlapQuery asks which other open requests touch the same elements of the same fiche
// (or, for the elements AcrossFiches, of any fiche).
type OverlapQuery struct {
	RequestID string   `json:"requestId"` // the asking request, excluded from the answer
	CodeRome  string   `json:"codeRome"`
	Elements  []string `json:"elements"`
}

// Overlap is another open request touching some of the same elements.
type Overlap struct {
	RequestID string   `json:"requestId"`
	Title     string   `json:"title"`
	Status    Status   `json:"status"`
	Elements  []string `json:"elements"`
}

// ElementRule is what an element's name takes: its kind, a colon, and a code or a folded
// label (at most a libellé long).
var ElementRule = TextRule{Name: "element", Max: MaxLibelle + len("appellation-label:")}

// ElementsOf names the elements of a fiche that operations touch, so that two open
// requests changing the same element can be flagged to the moderator: an appellation or
// item by code OGR, a new appellation by its normalised label, a mobilité by its target,
// a text by its field, the tags.
func ElementsOf(ops []Operation) []string {
	seen := map[string]bool{}
	var out []string
	add := func(e string) {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	for _, op := range ops {
		_, entity, _ := strings.Cut(op.Op, "_") // add_appellation → appellation
		switch {
		case op.Op == "create_fiche":
			// New fiches have no code yet: they overlap through their principal appellation.
			if p := op.AppellationPrincipale; p != nil && p.CodeOgr != "" {
				add("appellation:" + p.CodeOgr)
			} else if p != nil {
				add("appellation-label:" + Fold(p.Libelle))
			}
		case op.Op == "set_text":
			add("text:" + op.Field)
		case op.Op == "set_tags":
			add("tags")
		case strings.HasSuffix(op.Op, "_mobilite"):
			add("mobilite:" + op.ToCodeRome)
		case op.New != nil:
			add(entity + "-label:" + Fold(op.New.Libelle))
		case op.Op == "add_appellation":
			add("appellation-label:" + Fold(op.Libelle))
		case op.Op == "set_coeur_metier":
			add("item:" + op.CodeOgr)
		case op.CodeOgr != "":
			if entity == "competence" || entity == "savoir" || entity == "contexte" {
				add("item:" + op.CodeOgr)
			} else {
				add(entity + ":" + op.CodeOgr)
			}
		}
		if op.ReplacedBy != "" {
			add("appellation:" + op.ReplacedBy) // another request may remove or move the replacement
		}
	}
	return out
}

// AcrossFiches tells whether an element names the same thing whatever fiche a request
// targets: an appellation is on one fiche at a time, and no two share a label, so the
// removal of an appellation overlaps a new fiche made from it (whose request has no code
// ROME yet) as surely as another removal on the same fiche.
func AcrossFiches(element string) bool {
	return strings.HasPrefix(element, "appellation:") || strings.HasPrefix(element, "appellation-label:")
}

// Fold lowercases, removes accents and reduces everything but letters and digits to single
// spaces, so "Boulangère / Boulanger" and "boulangere boulanger" compare equal.
func Fold(s string) string {
	// A transformer keeps state: one per call, so Fold is safe for concurrent use.
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, strings.ToLower(s))
	if err != nil {
		folded = strings.ToLower(s)
	}
	return strings.Join(strings.FieldsFunc(folded, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ")
}
