package request

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/plateforme-rome/rome/clients/refclient"
)

// Operation syntax: the one rule every boundary that takes operations (the intake's
// submission and amendment, the referential's change sets) applies before anything is
// stored or run. An operation breaks it when it is of no known kind, lacks a field its kind
// requires, or carries a value no fiche could take (an unknown enum value, a code of the
// wrong shape, a rank out of range). Such an operation is refused with a 422 naming the
// field; what an operation means for the fiche (the appellation does not exist, the
// compétence is already on it…) stays the referential engine's business, reported as
// findings.

// MaxOperations is the most operations a request, an amendment or a change set carries.
const MaxOperations = 100

// MaxMobiliteRank is the highest rank an add_mobilite may ask for (the referential also
// bounds it by the fiche's mobilités).
const MaxMobiliteRank = 99

// Shapes of the codes operations carry.
var (
	CodeRomePattern             = regexp.MustCompile(`^[A-N]\d{4}$`)  // a fiche: M1805
	DomaineProfessionnelPattern = regexp.MustCompile(`^[A-N]\d{2}$`)  // a domaine professionnel: M18
	CodeOgrPattern              = regexp.MustCompile(`^[0-9]{1,12}$`) // an appellation, compétence, savoir or contexte
)

// OperationKinds are the operations the referential knows, in the API's order.
var OperationKinds = []string{
	refclient.OpCreateFiche, refclient.OpAddAppellation, refclient.OpUpdateAppellation, refclient.OpRemoveAppellation,
	refclient.OpMoveAppellation, refclient.OpAddCompetence, refclient.OpRemoveCompetence, refclient.OpSetCoeurMetier,
	refclient.OpAddSavoir, refclient.OpRemoveSavoir, refclient.OpAddContexte, refclient.OpRemoveContexte,
	refclient.OpAddMobilite, refclient.OpRemoveMobilite, refclient.OpSetText, refclient.OpSetTags,
}

// CoeurMetierValues are the values of coeurMetier (null, i.e. absent, clears it).
var CoeurMetierValues = []string{refclient.CoeurPrincipale, refclient.CoeurEmergente}

// TransitionEcologiqueValues are the values of set_tags' transitionEcologique; the empty
// text clears it.
var TransitionEcologiqueValues = []string{
	"Emploi Blanc", "Emploi Vert", "Emploi Brun", "Emploi stratégique pour la Transition écologique",
}

// SavoirCategories are the five official categories of a savoir, in display order.
var SavoirCategories = []string{
	"Domaines d'expertise", "Techniques professionnelles", "Certifications et habilitations",
	"Normes et procédés", "Produits, outils et matières",
}

// SetTextFields are the texts set_text replaces.
var SetTextFields = []string{refclient.FieldDefinition, refclient.FieldAccesEmploi}

// CheckOperations applies CheckOperation to each operation of a list; field is the list's
// path in the body ("operations"). More than MaxOperations is one problem on field, and
// the operations are not looked at. Whether the list may be empty is the caller's business.
func CheckOperations(field string, ops []Operation) []FieldProblem {
	if len(ops) > MaxOperations {
		return []FieldProblem{{Field: field, Message: fmt.Sprintf("must list at most %d operations (it has %d)", MaxOperations, len(ops))}}
	}
	var problems []FieldProblem
	for i, op := range ops {
		problems = append(problems, CheckOperation(fmt.Sprintf("%s[%d]", field, i), op)...)
	}
	return problems
}

// ValidateOperations is what a boundary applies to the operations it receives: at most
// MaxOperations, then ValidateOperation on each, in place.
func ValidateOperations(field string, ops []Operation) []FieldProblem {
	if len(ops) > MaxOperations {
		return CheckOperations(field, ops)
	}
	var problems []FieldProblem
	for i := range ops {
		problems = append(problems, ValidateOperation(fmt.Sprintf("%s[%d]", field, i), &ops[i])...)
	}
	return problems
}

// ValidateOperation applies the text rule to an operation, which cleans it in place
// (CleanOperation), then the syntax (CheckOperation). A field whose text is refused is
// not reported a second time by the syntax.
func ValidateOperation(field string, op *Operation) []FieldProblem {
	problems := CleanOperation(field, op)
	refused := map[string]bool{}
	for _, p := range problems {
		refused[p.Field] = true
	}
	for _, p := range CheckOperation(field, *op) {
		if !refused[p.Field] {
			problems = append(problems, p)
		}
	}
	return problems
}

// CheckOperation checks the syntax of one operation, by its kind; field is its path in the
// body ("operations[2]") and each problem names the offending field under it
// ("operations[2].rank"). It changes nothing and needs nothing but the operation.
func CheckOperation(field string, op Operation) []FieldProblem {
	c := opChecker{field: field}
	switch op.Op {
	case "":
		c.add("op", "is required: one of %s", strings.Join(OperationKinds, ", "))
	case refclient.OpCreateFiche:
		c.domaine("domaineProfessionnel", op.DomaineProfessionnel)
		c.required("definition", op.Definition)
		c.required("accesEmploi", op.AccesEmploi)
		switch p := op.AppellationPrincipale; {
		case p == nil || (blank(p.CodeOgr) && blank(p.Libelle)):
			c.add("appellationPrincipale", "is required: the codeOgr of an existing appellation or the libelle of a new one")
		case !blank(p.CodeOgr) && !blank(p.Libelle):
			c.add("appellationPrincipale", "must give either codeOgr (an existing appellation) or libelle (a new one), not both")
		case !blank(p.CodeOgr):
			c.codeOgr("appellationPrincipale.codeOgr", p.CodeOgr)
		}
	case refclient.OpAddAppellation:
		c.required("libelle", op.Libelle)
	case refclient.OpUpdateAppellation:
		c.codeOgr("codeOgr", op.CodeOgr)
		if blank(op.Libelle) && blank(op.LibelleCourt) {
			c.add("libelle", "is required: update_appellation needs libelle, libelleCourt or both")
		}
	case refclient.OpRemoveAppellation:
		c.codeOgr("codeOgr", op.CodeOgr)
		switch {
		case blank(op.ReplacedBy) && blank(op.Reason):
			c.add("reason", "is required: removing an appellation needs a successor (replacedBy) or a reason")
		case !blank(op.ReplacedBy) && !blank(op.Reason):
			c.add("replacedBy", "must be absent when a reason is given: give a successor (replacedBy) or a reason, not both")
		case !blank(op.ReplacedBy) && strings.TrimSpace(op.ReplacedBy) == strings.TrimSpace(op.CodeOgr):
			c.add("replacedBy", "must be another appellation than codeOgr: an appellation cannot replace itself")
		case !blank(op.ReplacedBy):
			c.codeOgr("replacedBy", op.ReplacedBy)
		}
	case refclient.OpMoveAppellation:
		c.codeOgr("codeOgr", op.CodeOgr)
		c.codeRome("toCodeRome", op.ToCodeRome)
	case refclient.OpAddCompetence:
		c.item(op, func(n *refclient.NewItem) {
			c.required("new.libelle", n.Libelle)
			c.codeOgr("new.macroCompetenceCodeOgr", n.MacroCompetenceCodeOgr)
		})
		c.coeur(op.CoeurMetier)
	case refclient.OpAddSavoir:
		c.item(op, func(n *refclient.NewItem) {
			c.required("new.libelle", n.Libelle)
			c.enum("new.categorie", n.Categorie, SavoirCategories)
		})
		c.coeur(op.CoeurMetier)
	case refclient.OpAddContexte:
		c.codeOgr("codeOgr", op.CodeOgr)
		c.coeur(op.CoeurMetier)
	case refclient.OpRemoveCompetence, refclient.OpRemoveSavoir, refclient.OpRemoveContexte:
		c.codeOgr("codeOgr", op.CodeOgr)
	case refclient.OpSetCoeurMetier:
		c.codeOgr("codeOgr", op.CodeOgr)
		c.coeur(op.CoeurMetier)
	case refclient.OpAddMobilite:
		c.codeRome("toCodeRome", op.ToCodeRome)
		if op.Rank != nil && (*op.Rank < 1 || *op.Rank > MaxMobiliteRank) {
			c.add("rank", "must be between 1 and %d (it is %d); leave it out to add the mobilité last", MaxMobiliteRank, *op.Rank)
		}
	case refclient.OpRemoveMobilite:
		c.codeRome("toCodeRome", op.ToCodeRome)
	case refclient.OpSetText:
		if blank(op.Field) {
			c.add("field", "is required: %s", quoteAll(SetTextFields))
		} else {
			c.enum("field", op.Field, SetTextFields)
		}
		c.required("text", op.Text)
	case refclient.OpSetTags:
		if op.TransitionEcologique == nil && op.TransitionNumerique == nil && op.TransitionDemographique == nil &&
			op.EmploiReglemente == nil && op.EmploiCadre == nil {
			c.add("transitionEcologique", "set_tags needs at least one tag: transitionEcologique, transitionNumerique, transitionDemographique, emploiReglemente or emploiCadre")
		}
		if v := op.TransitionEcologique; v != nil && strings.TrimSpace(*v) != "" {
			c.enum("transitionEcologique", *v, TransitionEcologiqueValues)
		}
	default:
		c.add("op", "%q is not an operation: one of %s", op.Op, strings.Join(OperationKinds, ", "))
	}
	return c.problems
}

type opChecker struct {
	field    string
	problems []FieldProblem
}

func (c *opChecker) add(name, format string, args ...any) {
	c.problems = append(c.problems, FieldProblem{Field: c.field + "." + name, Message: fmt.Sprintf(format, args...)})
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// required refuses an absent or blank value; it tells whether the value is there.
func (c *opChecker) required(name, v string) bool {
	if blank(v) {
		c.add(name, "is required")
		return false
	}
	return true
}

func (c *opChecker) codeOgr(name, v string) {
	if c.required(name, v) && !CodeOgrPattern.MatchString(strings.TrimSpace(v)) {
		c.add(name, "must be a code OGR: digits only, e.g. 38823 (it is %q)", v)
	}
}

func (c *opChecker) codeRome(name, v string) {
	if c.required(name, v) && !CodeRomePattern.MatchString(strings.TrimSpace(v)) {
		c.add(name, "must be a code ROME: a letter A to N and four digits, e.g. M1805 (it is %q)", v)
	}
}

func (c *opChecker) domaine(name, v string) {
	if c.required(name, v) && !DomaineProfessionnelPattern.MatchString(strings.TrimSpace(v)) {
		c.add(name, "must be a domaine professionnel: a letter A to N and two digits, e.g. M18 (it is %q)", v)
	}
}

func (c *opChecker) enum(name, v string, values []string) {
	if c.required(name, v) && !slices.Contains(values, strings.TrimSpace(v)) {
		c.add(name, "must be one of %s (it is %q)", quoteAll(values), v)
	}
}

func (c *opChecker) coeur(v *string) {
	if v != nil && !slices.Contains(CoeurMetierValues, *v) {
		c.add("coeurMetier", "must be %s or null (it is %q)", quoteAll(CoeurMetierValues), *v)
	}
}

// item checks an add_competence or add_savoir: an existing item (codeOgr) or a new one.
func (c *opChecker) item(op Operation, checkNew func(*refclient.NewItem)) {
	switch {
	case op.New == nil:
		if blank(op.CodeOgr) {
			c.add("codeOgr", "is required: the codeOgr of an existing item, or new to create one")
			return
		}
		c.codeOgr("codeOgr", op.CodeOgr)
	case !blank(op.CodeOgr):
		c.add("new", "must be absent when codeOgr is given: give codeOgr (an existing item) or new, not both")
	default:
		checkNew(op.New)
	}
}

func quoteAll(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
