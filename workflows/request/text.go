package request

import (
	"fmt"

	"github.com/plateforme-rome/rome/platform/textrule"
)

// Text hygiene: every boundary (the intake, the referential's change sets, the
// notifications service) applies the platform's text rule (package textrule) to the texts
// people send, with the limits of the request contract's fields below.

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

// TextRule is what a text field accepts (textrule.Rule).
type TextRule = textrule.Rule

// FieldProblem is a field that breaks its rule: the field's path (e.g.
// "operations[2].libelle") and what is wrong, for a 422 answer.
type FieldProblem = textrule.Problem

// CheckText applies rule to the value of field (textrule.Check): the cleaned text, or the
// problem that makes it unacceptable.
func CheckText(field, value string, rule TextRule) (string, *FieldProblem) {
	return textrule.Check(field, value, rule)
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
