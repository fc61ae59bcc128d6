package ui

// The request form (/demandes/nouvelle) keeps its whole state in its own fields, so that it
// works without JavaScript: every button posts the whole form, the handler changes it (adds
// or removes an operation, runs a search, applies a picked result, previews) and renders it
// again with everything typed; only "Soumettre la demande" sends it to the intake.
//
// Field names (the operations' fields are named as the API names them):
//
//	kind, codeRome, title, justification   the request
//	fiche.<field>                          the create_fiche operation of the kinds that create a fiche
//	                                       (domaineProfessionnel, definition, accesEmploi,
//	                                       appellationPrincipale.codeOgr | .libelle | .libelleCourt)
//	ops.<i>.op, ops.<i>.<field>            the other operations, in order (libelle, codeOgr,
//	                                       new.libelle, toCodeRome, rank…)
//	ops.<i>.source                         existant | nouveau (add_competence, add_savoir)
//	ops.<i>.id, fiche.id                   an existing operation's id (the amendment of a request's
//	                                       operations, /demandes/{id}/operations)
//	<field>.q                              a field's search picker: the query
//	<field>.pick                           the search result picked ("code|codeRome|libellé")
//	<field>.label                          what the value chosen is ("code|codeRome|libellé")
//	cle                                    the idempotency key, made once and kept
//	apercu                                 1 once the partner asked for the preview
//	action                                 the button pressed: submit, preview, refresh, fiche,
//	                                       search:<field>, choose, add:<op>, remove:<i>
//
// This file is the form itself (parsing, actions, validation, the operations it makes and
// the mapping of the services' field paths back to it); request_new.go has the handlers,
// form_editor.go the editor they share with the amendment, form_view.go the views,
// form_pickers.go the search pickers, form_preview.go the preview and form_fiche.go the
// fiche being modified.

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Limits of the form, as the intake applies them.
const (
	formMaxOps           = 100
	formMaxTitle         = 200
	formMaxText          = 10_000
	formMinQuery         = 2 // characters a search needs
	sourceExisting       = "existant"
	sourceNew            = "nouveau"
	tagUnchanged         = "inchange"
	tagCleared           = "aucune"
	flagYes, flagNo      = "oui", "non"
	fichePrefix          = "fiche"
	groupKnownAppel      = "connue"
	groupNewAppel        = "nouvelle"
	widgetText           = "text"
	widgetTextarea       = "textarea"
	widgetSelect         = "select"
	widgetCode           = "code" // a code typed or picked from a search
	pickAppellations     = backend.SearchAppellations
	pickCompetences      = backend.SearchCompetences
	pickSavoirs          = backend.SearchSavoirs
	pickContextes        = "contextes"
	pickFiches           = "fiches"
	pickMacros           = "macros"
	ficheOptAppellations = "fiche:appellations"
	ficheOptSynonymes    = "fiche:synonymes"
	ficheOptCompetences  = "fiche:competences"
	ficheOptCoeur        = "fiche:competencesEtMacros"
	ficheOptSavoirs      = "fiche:savoirs"
	ficheOptContextes    = "fiche:contextes"
	ficheOptMobilites    = "fiche:mobilites"
)

var (
	formOpField = regexp.MustCompile(`^ops\.(\d{1,3})\.(.+)$`)
	apiOpField  = regexp.MustCompile(`^operations\[(\d+)\](?:\.(.+))?$`)
	formName    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// fieldDef is one field of an operation block.
type fieldDef struct {
	Key      string // the operation's field as the API names it ("libelle", "new.libelle")
	Label    string
	Hint     string
	Widget   string // widgetText, widgetTextarea, widgetSelect, widgetCode
	Required bool
	Missing  string // the message when a required field is empty
	// Options names the choices of a select: a static set (formOptionSets) or the
	// elements of the current fiche (ficheOpt…), in which case the field falls back to
	// a code with the Picker search when no fiche is loaded, labelled Fallback.
	Options  string
	Picker   string // what a code's search looks for (pick…)
	Fallback string
	Group    string // shown only with this source (existant, nouveau) or kind (connue, nouvelle)
	Short    bool
	Numeric  bool
	Rows     int
}

// opSpec is a kind of operation the form offers.
type opSpec struct {
	Op     string
	Group  string // the group of its button
	Source string // the noun of an element that may be existing or new ("compétence")
	Fields []fieldDef
}

func (s opSpec) field(key string) (fieldDef, bool) {
	for _, d := range s.Fields {
		if d.Key == key {
			return d, true
		}
	}
	return fieldDef{}, false
}

// The fields the operations share.
var (
	codeOgrMsg  = "Choisissez un élément dans les résultats de la recherche, ou saisissez son code OGR."
	codeRomeMsg = "Saisissez un code ROME : une lettre de A à N et quatre chiffres, par exemple M1805."
	coeurField  = fieldDef{Key: "coeurMetier", Label: "Cœur de métier", Widget: widgetSelect, Options: "coeur",
		Hint: "Une compétence principale ou émergente du métier est mise en avant sur la fiche."}
	ficheCible = fieldDef{Key: "toCodeRome", Label: "Fiche cible (code ROME)", Widget: widgetCode, Picker: pickFiches, Required: true,
		Missing: "Saisissez le code ROME de la fiche cible, ou recherchez-la.", Short: true,
		Hint: "Une lettre et quatre chiffres, par exemple M1806 ; ou recherchez la fiche par son intitulé."}
)

// formOpSpecs are the operations the form offers, in the order of their buttons.
var formOpSpecs = []opSpec{
	{Op: refclient.OpAddAppellation, Group: "appellations", Fields: []fieldDef{
		{Key: "libelle", Label: "Libellé de l'appellation", Widget: widgetText, Required: true,
			Missing: "Saisissez le libellé de l'appellation.", Hint: "Le nom du métier tel que les recruteurs et les candidats l'emploient, par exemple « Développeur / Développeuse Go »."},
		{Key: "libelleCourt", Label: "Libellé court", Widget: widgetText, Hint: "Facultatif : une forme courte, si elle diffère du libellé."},
	}},
	{Op: refclient.OpUpdateAppellation, Group: "appellations", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Appellation à modifier", Widget: widgetSelect, Options: ficheOptAppellations, Picker: pickAppellations,
			Fallback: "Appellation à modifier (code OGR)", Required: true, Missing: "Choisissez l'appellation à modifier."},
		{Key: "libelle", Label: "Nouveau libellé", Widget: widgetText, Hint: "Laissez vide pour garder le libellé actuel."},
		{Key: "libelleCourt", Label: "Nouveau libellé court", Widget: widgetText, Hint: "Facultatif."},
	}},
	{Op: refclient.OpRemoveAppellation, Group: "appellations", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Appellation à supprimer", Widget: widgetSelect, Options: ficheOptSynonymes, Picker: pickAppellations,
			Fallback: "Appellation à supprimer (code OGR)", Required: true, Missing: "Choisissez l'appellation à supprimer.",
			Hint: "L'appellation principale porte le nom de la fiche : elle ne se supprime pas, elle se renomme."},
		{Key: "replacedBy", Label: "Appellation qui la remplace (code OGR)", Widget: widgetCode, Picker: pickAppellations, Short: true,
			Hint: "Facultatif si vous donnez un motif : l'appellation vers laquelle orienter les offres et les candidats."},
		{Key: "reason", Label: "Motif de la suppression", Widget: widgetTextarea, Rows: 3,
			Hint: "Obligatoire sans appellation de remplacement."},
	}},
	{Op: refclient.OpMoveAppellation, Group: "appellations", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Appellation à déplacer", Widget: widgetSelect, Options: ficheOptSynonymes, Picker: pickAppellations,
			Fallback: "Appellation à déplacer (code OGR)", Required: true, Missing: "Choisissez l'appellation à déplacer."},
		ficheCible,
	}},
	{Op: refclient.OpAddCompetence, Group: "competences", Source: "compétence", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Compétence à ajouter (code OGR)", Widget: widgetCode, Picker: pickCompetences, Group: sourceExisting,
			Required: true, Missing: "Choisissez la compétence à ajouter.", Short: true,
			Hint: "Recherchez-la par son libellé ci-dessous, ou saisissez son code OGR."},
		{Key: "new.libelle", Label: "Libellé de la nouvelle compétence", Widget: widgetText, Group: sourceNew,
			Required: true, Missing: "Saisissez le libellé de la nouvelle compétence."},
		{Key: "new.macroCompetenceCodeOgr", Label: "Macro-compétence de rattachement (code OGR)", Widget: widgetCode, Picker: pickMacros,
			Group: sourceNew, Required: true, Missing: "Choisissez la macro-compétence (savoir-faire) où ranger la compétence.", Short: true,
			Hint: "Une macro-compétence de savoir-faire ; recherchez-la par l'une de ses compétences."},
		coeurField,
	}},
	{Op: refclient.OpRemoveCompetence, Group: "competences", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Compétence à retirer", Widget: widgetSelect, Options: ficheOptCompetences, Picker: pickCompetences,
			Fallback: "Compétence à retirer (code OGR)", Required: true, Missing: "Choisissez la compétence à retirer."},
	}},
	{Op: refclient.OpSetCoeurMetier, Group: "competences", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Compétence concernée", Widget: widgetSelect, Options: ficheOptCoeur, Picker: pickCompetences,
			Fallback: "Compétence concernée (code OGR)", Required: true, Missing: "Choisissez la compétence concernée."},
		coeurField,
	}},
	{Op: refclient.OpAddSavoir, Group: "savoirs", Source: "savoir", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Savoir à ajouter (code OGR)", Widget: widgetCode, Picker: pickSavoirs, Group: sourceExisting,
			Required: true, Missing: "Choisissez le savoir à ajouter.", Short: true,
			Hint: "Recherchez-le par son libellé ci-dessous, ou saisissez son code OGR."},
		{Key: "new.libelle", Label: "Libellé du nouveau savoir", Widget: widgetText, Group: sourceNew,
			Required: true, Missing: "Saisissez le libellé du nouveau savoir."},
		{Key: "new.categorie", Label: "Catégorie du savoir", Widget: widgetSelect, Options: "categorie", Group: sourceNew,
			Required: true, Missing: "Choisissez la catégorie du savoir."},
	}},
	{Op: refclient.OpRemoveSavoir, Group: "savoirs", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Savoir à retirer", Widget: widgetSelect, Options: ficheOptSavoirs, Picker: pickSavoirs,
			Fallback: "Savoir à retirer (code OGR)", Required: true, Missing: "Choisissez le savoir à retirer."},
	}},
	{Op: refclient.OpAddContexte, Group: "contextes", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Contexte de travail à ajouter (code OGR)", Widget: widgetCode, Picker: pickContextes,
			Required: true, Missing: "Choisissez le contexte de travail à ajouter.", Short: true,
			Hint: "Recherchez-le ci-dessous (conditions de travail, horaires, lieux, statuts, publics, structures)."},
	}},
	{Op: refclient.OpRemoveContexte, Group: "contextes", Fields: []fieldDef{
		{Key: "codeOgr", Label: "Contexte de travail à retirer", Widget: widgetSelect, Options: ficheOptContextes, Picker: pickContextes,
			Fallback: "Contexte de travail à retirer (code OGR)", Required: true, Missing: "Choisissez le contexte de travail à retirer."},
	}},
	{Op: refclient.OpAddMobilite, Group: "mobilites", Fields: []fieldDef{
		ficheCible,
		{Key: "rank", Label: "Rang", Widget: widgetText, Short: true, Numeric: true,
			Hint: "Facultatif : 1 pour la mobilité la plus proche ; sans rang, elle s'ajoute à la fin."},
	}},
	{Op: refclient.OpRemoveMobilite, Group: "mobilites", Fields: []fieldDef{
		{Key: "toCodeRome", Label: "Mobilité à retirer", Widget: widgetSelect, Options: ficheOptMobilites, Picker: pickFiches,
			Fallback: "Fiche cible (code ROME)", Required: true, Missing: "Choisissez la mobilité à retirer."},
	}},
	{Op: refclient.OpSetText, Group: "textes", Fields: []fieldDef{
		{Key: "field", Label: "Texte à réécrire", Widget: widgetSelect, Options: "textField", Required: true, Missing: "Choisissez le texte à réécrire."},
		{Key: "text", Label: "Nouveau texte", Widget: widgetTextarea, Rows: 6, Required: true, Missing: "Saisissez le nouveau texte.",
			Hint: "Il remplace tout le texte actuel ; une phrase par ligne."},
	}},
	{Op: refclient.OpSetTags, Group: "textes", Fields: []fieldDef{
		{Key: "transitionEcologique", Label: "Transition écologique", Widget: widgetSelect, Options: "ecologique"},
		{Key: "transitionNumerique", Label: "Transition numérique", Widget: widgetSelect, Options: "flag"},
		{Key: "transitionDemographique", Label: "Transition démographique", Widget: widgetSelect, Options: "flag"},
		{Key: "emploiReglemente", Label: "Emploi réglementé", Widget: widgetSelect, Options: "flag"},
		{Key: "emploiCadre", Label: "Emploi cadre", Widget: widgetSelect, Options: "flag"},
	}},
}

// createFicheSpec is the create_fiche operation of the kinds that create a fiche.
var createFicheSpec = opSpec{Op: refclient.OpCreateFiche, Fields: []fieldDef{
	{Key: "appellationPrincipale.codeOgr", Label: "Appellation existante (code OGR)", Widget: widgetCode, Picker: pickAppellations,
		Group: groupKnownAppel, Required: true, Short: true, Missing: "Choisissez l'appellation existante qui devient l'appellation principale de la fiche.",
		Hint: "L'appellation connue du ROME qui donnera son nom à la nouvelle fiche : elle quitte sa fiche actuelle. Recherchez-la ci-dessous."},
	{Key: "appellationPrincipale.libelle", Label: "Libellé de la nouvelle appellation principale", Widget: widgetText, Group: groupNewAppel,
		Required: true, Missing: "Saisissez le libellé de la nouvelle appellation : il sera aussi le nom de la fiche.",
		Hint: "Il devient aussi le nom de la fiche."},
	{Key: "appellationPrincipale.libelleCourt", Label: "Libellé court de la nouvelle appellation", Widget: widgetText, Group: groupNewAppel,
		Hint: "Facultatif."},
	{Key: "domaineProfessionnel", Label: "Domaine professionnel", Widget: widgetText, Required: true, Short: true,
		Missing: "Saisissez le domaine professionnel : une lettre de A à N et deux chiffres, par exemple M18.",
		Hint:    "Une lettre et deux chiffres, par exemple M18 : les trois premiers caractères des codes ROME du domaine. Le code de la fiche en découle."},
	{Key: "definition", Label: "Définition du métier", Widget: widgetTextarea, Rows: 5, Required: true, Missing: "Saisissez la définition du métier."},
	{Key: "accesEmploi", Label: "Accès à l'emploi", Widget: widgetTextarea, Rows: 4, Required: true, Missing: "Saisissez les conditions d'accès à l'emploi (diplômes, expérience)."},
}}

var formOpSpecByOp = func() map[string]opSpec {
	m := map[string]opSpec{refclient.OpCreateFiche: createFicheSpec}
	for _, s := range formOpSpecs {
		m[s.Op] = s
	}
	return m
}()

// formOpGroups are the groups of "Ajouter…" buttons, in order.
var formOpGroups = []struct{ Key, Label string }{
	{"appellations", "Appellations"}, {"competences", "Compétences"}, {"savoirs", "Savoirs"},
	{"contextes", "Contextes de travail"}, {"mobilites", "Mobilités"}, {"textes", "Textes et indicateurs"},
}

// formOption is a choice of a select.
type formOption struct{ Value, Label string }

// savoirCategories are the referential's five categories of savoirs.
var savoirCategories = []string{"Domaines d'expertise", "Techniques professionnelles", "Certifications et habilitations",
	"Normes et procédés", "Produits, outils et matières"}

// formOptionSets are the static choices of the selects.
var formOptionSets = map[string][]formOption{
	"coeur": {{"", "Non (compétence ordinaire)"}, {"PRINCIPALE", "Principale"}, {"EMERGENTE", "Émergente"}},
	"textField": {{"", "Choisissez un texte"}, {refclient.FieldDefinition, "Définition"},
		{refclient.FieldAccesEmploi, "Accès à l'emploi"}},
	"categorie": func() []formOption {
		o := []formOption{{"", "Choisissez une catégorie"}}
		for _, c := range savoirCategories {
			o = append(o, formOption{c, c})
		}
		return o
	}(),
	"ecologique": {{tagUnchanged, "Inchangée"}, {"Emploi Blanc", "Emploi blanc"}, {"Emploi Vert", "Emploi vert"},
		{"Emploi Brun", "Emploi brun"}, {"Emploi stratégique pour la Transition écologique", "Emploi stratégique pour la transition écologique"},
		{tagCleared, "Non renseignée (effacer)"}},
	"flag": {{tagUnchanged, "Inchangé"}, {flagYes, "Oui"}, {flagNo, "Non"}},
}

// opForm is one operation as the form holds it: its kind and its fields by the API's names.
type opForm struct {
	Op string
	V  map[string]string
}

// newOpForm is a fresh block of kind op, with its defaults.
func newOpForm(op string) opForm {
	o := opForm{Op: op, V: map[string]string{}}
	spec := formOpSpecByOp[op]
	if spec.Source != "" {
		o.V["source"] = sourceExisting
	}
	for _, d := range spec.Fields {
		if d.Options == "flag" || d.Options == "ecologique" {
			o.V[d.Key] = tagUnchanged
		}
	}
	return o
}

func (o opForm) get(key string) string { return strings.TrimSpace(o.V[key]) }

// source is existant or nouveau for the operations that add an existing or a new element.
func (o opForm) source() string {
	if o.V["source"] == sourceNew {
		return sourceNew
	}
	return sourceExisting
}

// shows tells whether the block shows field d (a source's fields only with that source).
func (o opForm) shows(d fieldDef, kind request.Kind) bool {
	switch d.Group {
	case sourceExisting, sourceNew:
		return o.source() == d.Group
	case groupKnownAppel:
		return kind != request.KindCreateFromNew
	case groupNewAppel:
		return kind != request.KindCreateFromKnown
	}
	return true
}

// requestForm is the whole form.
type requestForm struct {
	Key           string // the idempotency key
	Kind          request.Kind
	CodeRome      string
	Title         string
	Justification string
	// Top holds the request-level picker's state: codeRome.q and codeRome.label.
	Top       map[string]string
	Fiche     opForm // create_fiche (kinds that create a fiche)
	Ops       []opForm
	Previewed bool
	picks     map[string]string // field → picked search result, applied by applyPicks
}

// newRequestForm is an empty form with a fresh idempotency key.
func newRequestForm() *requestForm {
	return &requestForm{Key: newFormKey(), Top: map[string]string{}, Fiche: newOpForm(refclient.OpCreateFiche), picks: map[string]string{}}
}

// creates tells whether the request creates a fiche (its first operation is create_fiche).
func (f *requestForm) creates() bool {
	return f.Kind == request.KindCreateFromKnown || f.Kind == request.KindCreateFromNew
}

// parseRequestForm reads the posted form and the button pressed.
func parseRequestForm(form url.Values) (*requestForm, string) {
	f := newRequestForm()
	f.Key = formKey(form.Get("cle"))
	f.Kind = request.Kind(strings.TrimSpace(form.Get("kind")))
	f.CodeRome = normCodeRome(form.Get("codeRome"))
	f.Title, f.Justification = form.Get("title"), form.Get("justification")
	f.Previewed = form.Get("apercu") == "1"
	ops := map[int]opForm{}
	for name, vals := range form {
		if len(vals) == 0 || !formName.MatchString(name) {
			continue
		}
		v := vals[0]
		if field, ok := strings.CutSuffix(name, ".pick"); ok {
			if v != "" {
				f.picks[field] = v
			}
			continue
		}
		if name == "codeRome.q" || name == "codeRome.label" {
			f.Top[name] = v
			continue
		}
		if key, ok := strings.CutPrefix(name, fichePrefix+"."); ok {
			if key != "op" {
				f.Fiche.V[key] = v
			}
			continue
		}
		m := formOpField.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i >= formMaxOps {
			continue
		}
		o, ok := ops[i]
		if !ok {
			o = opForm{V: map[string]string{}}
		}
		if m[2] == "op" {
			o.Op = v
		} else {
			o.V[m[2]] = v
		}
		ops[i] = o
	}
	idx := make([]int, 0, len(ops))
	for i := range ops {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		if o := ops[i]; o.Op != refclient.OpCreateFiche && formOpSpecByOp[o.Op].Op != "" {
			f.Ops = append(f.Ops, o)
		}
	}
	return f, form.Get("action")
}

func normCodeRome(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// opName splits "ops.3.libelle" into 3 and "libelle".
func opName(name string) (int, string, bool) {
	m := formOpField.FindStringSubmatch(name)
	if m == nil {
		return 0, "", false
	}
	i, _ := strconv.Atoi(m[1])
	return i, m[2], true
}

// get reads a field by its form name.
func (f *requestForm) get(name string) string {
	switch name {
	case "kind":
		return string(f.Kind)
	case "codeRome":
		return f.CodeRome
	case "title":
		return f.Title
	case "justification":
		return f.Justification
	}
	if key, ok := strings.CutPrefix(name, fichePrefix+"."); ok {
		return f.Fiche.V[key]
	}
	if i, key, ok := opName(name); ok {
		if i < len(f.Ops) {
			return f.Ops[i].V[key]
		}
		return ""
	}
	return f.Top[name]
}

// set writes a field by its form name, and tells whether the form has it.
func (f *requestForm) set(name, v string) bool {
	switch {
	case name == "codeRome":
		f.CodeRome = normCodeRome(v)
	case strings.HasPrefix(name, "codeRome."):
		f.Top[name] = v
	case strings.HasPrefix(name, fichePrefix+"."):
		f.Fiche.V[strings.TrimPrefix(name, fichePrefix+".")] = v
	default:
		i, key, ok := opName(name)
		if !ok || i >= len(f.Ops) {
			return false
		}
		f.Ops[i].V[key] = v
	}
	return true
}

// splitPick reads a picked result: "code|codeRome|libellé".
func splitPick(v string) (code, codeRome, label string) {
	parts := strings.SplitN(v, "|", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
}

// applyPicks puts the search results picked into their fields (and clears their search),
// and says where the focus goes and what to announce.
func (f *requestForm) applyPicks() (focus, live string) {
	names := make([]string, 0, len(f.picks))
	for name := range f.picks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := f.picks[name]
		code, codeRome, label := splitPick(v)
		if code == "" || !f.set(name, code) {
			continue
		}
		f.set(name+".label", v)
		f.set(name+".q", "")
		if name == fichePrefix+".appellationPrincipale.codeOgr" && f.Fiche.get("domaineProfessionnel") == "" && len(codeRome) >= 3 {
			f.Fiche.V["domaineProfessionnel"] = codeRome[:3]
		}
		focus, live = formID(name), "Choisi : "+label+" ("+code+")."
	}
	f.picks = map[string]string{}
	return focus, live
}

// applyAction adds or removes an operation block; it says where the focus goes, what to
// announce and, when the action is refused, why.
func (f *requestForm) applyAction(action string) (focus, live, refused string) {
	switch {
	case strings.HasPrefix(action, "add:"):
		op := strings.TrimPrefix(action, "add:")
		spec, ok := formOpSpecByOp[op]
		if !ok || op == refclient.OpCreateFiche {
			return "", "", ""
		}
		if len(f.Ops) >= f.maxOps() {
			return "", "", fmt.Sprintf("Une demande compte au plus %d opérations : déposez une autre demande pour la suite.", formMaxOps)
		}
		f.Ops = append(f.Ops, newOpForm(op))
		i := len(f.Ops) - 1
		first := formID(fmt.Sprintf("ops.%d.%s", i, spec.Fields[0].Key))
		if spec.Source != "" {
			first = formID(fmt.Sprintf("ops.%d.source", i)) + "-" + sourceExisting
		}
		return first, fmt.Sprintf("Opération %d ajoutée : %s. Complétez ses champs.", i+1, opLabels[op]), ""
	case strings.HasPrefix(action, "remove:"):
		i, err := strconv.Atoi(strings.TrimPrefix(action, "remove:"))
		if err != nil || i < 0 || i >= len(f.Ops) {
			return "", "", ""
		}
		op := f.Ops[i].Op
		f.Ops = slices.Delete(f.Ops, i, i+1)
		return "operations", fmt.Sprintf("Opération %d retirée (%s). Les suivantes sont renumérotées.", i+1, opLabels[op]), ""
	}
	return "", "", ""
}

// maxOps is how many operation blocks the form takes (create_fiche counts).
func (f *requestForm) maxOps() int {
	if f.creates() {
		return formMaxOps - 1
	}
	return formMaxOps
}

// validate checks what the console can check itself, with French messages; the intake
// and the referential remain authoritative.
func (f *requestForm) validate() fieldErrors {
	errs := fieldErrors{}
	switch f.Kind {
	case request.KindModifyFiche:
		switch {
		case f.CodeRome == "":
			errs.add("codeRome", "Saisissez le code ROME de la fiche à modifier, ou recherchez-la.")
		case !request.CodeRomePattern.MatchString(f.CodeRome):
			errs.add("codeRome", codeRomeMsg)
		}
	case request.KindCreateFromKnown, request.KindCreateFromNew:
		validateOp(fichePrefix, createFicheSpec, f.Fiche, f.Kind, errs)
	default:
		errs.add("kind", "Choisissez le type de demande.")
	}
	textLength(errs, "title", f.Title, formMaxTitle, "Donnez un titre à votre demande.")
	textLength(errs, "justification", f.Justification, formMaxText,
		"Justifiez la demande : constats du marché du travail, sources, volumes d'offres.")
	if len(f.Ops) == 0 && !f.creates() {
		errs.add("operations", "Ajoutez au moins une opération : les boutons « Ajouter… » sont sous la liste des opérations.")
	}
	for i, o := range f.Ops {
		validateOp(fmt.Sprintf("ops.%d", i), formOpSpecByOp[o.Op], o, f.Kind, errs)
	}
	return errs
}

func textLength(errs fieldErrors, field, v string, max int, missing string) {
	switch n := utf8.RuneCountInString(strings.TrimSpace(v)); {
	case n == 0:
		errs.add(field, missing)
	case n > max:
		errs.add(field, fmt.Sprintf("Ce champ compte au plus %d caractères (il en a %d).", max, n))
	}
}

// validateOp checks one operation's block, its fields named prefix.<key>.
func validateOp(prefix string, spec opSpec, o opForm, kind request.Kind, errs fieldErrors) {
	name := func(key string) string { return prefix + "." + key }
	for _, d := range spec.Fields {
		if !o.shows(d, kind) {
			continue
		}
		v := o.get(d.Key)
		if v == "" {
			if d.Required {
				errs.add(name(d.Key), orRaw(d.Missing, "Ce champ est obligatoire."))
			}
			continue
		}
		switch {
		case d.Key == "domaineProfessionnel":
			if !request.DomaineProfessionnelPattern.MatchString(strings.ToUpper(v)) {
				errs.add(name(d.Key), "Saisissez un domaine professionnel : une lettre de A à N et deux chiffres, par exemple M18.")
			}
		case d.Picker == pickFiches || d.Options == ficheOptMobilites:
			if !request.CodeRomePattern.MatchString(normCodeRome(v)) {
				errs.add(name(d.Key), codeRomeMsg)
			}
		case d.Picker != "":
			if !request.CodeOgrPattern.MatchString(v) {
				errs.add(name(d.Key), "Un code OGR ne compte que des chiffres. "+codeOgrMsg)
			}
		case d.Numeric:
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 999 {
				errs.add(name(d.Key), "Saisissez un nombre entier à partir de 1, ou laissez vide.")
			}
		case d.Widget == widgetSelect && d.Options != "" && !strings.HasPrefix(d.Options, "fiche:"):
			if !slices.ContainsFunc(formOptionSets[d.Options], func(opt formOption) bool { return opt.Value == v }) {
				errs.add(name(d.Key), "Choisissez une des valeurs proposées.")
			}
		}
		if utf8.RuneCountInString(v) > formMaxText {
			errs.add(name(d.Key), fmt.Sprintf("Ce champ compte au plus %d caractères.", formMaxText))
		}
	}
	switch spec.Op {
	case refclient.OpUpdateAppellation:
		if o.get("libelle") == "" && o.get("libelleCourt") == "" {
			errs.add(name("libelle"), "Saisissez le nouveau libellé, le nouveau libellé court, ou les deux.")
		}
	case refclient.OpRemoveAppellation:
		if o.get("replacedBy") == "" && o.get("reason") == "" {
			errs.add(name("reason"), "Donnez l'appellation qui la remplace ou le motif de la suppression.")
		}
	case refclient.OpSetTags:
		if tags := o.operation(kind); tags.TransitionEcologique == nil && tags.TransitionNumerique == nil &&
			tags.TransitionDemographique == nil && tags.EmploiReglemente == nil && tags.EmploiCadre == nil {
			errs.add(prefix, "Changez au moins un indicateur.")
		}
	}
}

// operation is the API's operation for this block (kind decides the principal appellation
// of create_fiche).
func (o opForm) operation(kind request.Kind) refclient.Operation {
	// The id of an existing operation (an amendment of the request's operations) keeps its
	// findings and decisions attached to it; a new one gets its id from the intake.
	op := refclient.Operation{ID: o.get("id"), Op: o.Op}
	g := o.get
	switch o.Op {
	case refclient.OpCreateFiche:
		op.DomaineProfessionnel = strings.ToUpper(g("domaineProfessionnel"))
		op.Definition, op.AccesEmploi = g("definition"), g("accesEmploi")
		if kind == request.KindCreateFromKnown {
			op.AppellationPrincipale = &refclient.AppellationPrincipale{CodeOgr: g("appellationPrincipale.codeOgr")}
		} else {
			op.AppellationPrincipale = &refclient.AppellationPrincipale{Libelle: g("appellationPrincipale.libelle"),
				LibelleCourt: g("appellationPrincipale.libelleCourt")}
		}
	case refclient.OpAddAppellation:
		op.Libelle, op.LibelleCourt = g("libelle"), g("libelleCourt")
	case refclient.OpUpdateAppellation:
		op.CodeOgr, op.Libelle, op.LibelleCourt = g("codeOgr"), g("libelle"), g("libelleCourt")
	case refclient.OpRemoveAppellation:
		op.CodeOgr, op.ReplacedBy, op.Reason = g("codeOgr"), g("replacedBy"), g("reason")
	case refclient.OpMoveAppellation:
		op.CodeOgr, op.ToCodeRome = g("codeOgr"), normCodeRome(g("toCodeRome"))
	case refclient.OpAddCompetence:
		if o.source() == sourceNew {
			op.New = &refclient.NewItem{Libelle: g("new.libelle"), MacroCompetenceCodeOgr: g("new.macroCompetenceCodeOgr")}
		} else {
			op.CodeOgr = g("codeOgr")
		}
		op.CoeurMetier = optional(g("coeurMetier"))
	case refclient.OpSetCoeurMetier:
		op.CodeOgr, op.CoeurMetier = g("codeOgr"), optional(g("coeurMetier"))
	case refclient.OpAddSavoir:
		if o.source() == sourceNew {
			op.New = &refclient.NewItem{Libelle: g("new.libelle"), Categorie: g("new.categorie")}
		} else {
			op.CodeOgr = g("codeOgr")
		}
	case refclient.OpRemoveCompetence, refclient.OpRemoveSavoir, refclient.OpAddContexte, refclient.OpRemoveContexte:
		op.CodeOgr = g("codeOgr")
	case refclient.OpAddMobilite:
		op.ToCodeRome = normCodeRome(g("toCodeRome"))
		if n, err := strconv.Atoi(g("rank")); err == nil {
			op.Rank = &n
		}
	case refclient.OpRemoveMobilite:
		op.ToCodeRome = normCodeRome(g("toCodeRome"))
	case refclient.OpSetText:
		op.Field, op.Text = g("field"), strings.TrimSpace(strings.ReplaceAll(o.V["text"], "\r\n", "\n"))
	case refclient.OpSetTags:
		switch v := g("transitionEcologique"); v {
		case "", tagUnchanged:
		case tagCleared:
			op.TransitionEcologique = new(string)
		default:
			op.TransitionEcologique = optional(v)
		}
		op.TransitionNumerique = flag(g("transitionNumerique"))
		op.TransitionDemographique = flag(g("transitionDemographique"))
		op.EmploiReglemente = flag(g("emploiReglemente"))
		op.EmploiCadre = flag(g("emploiCadre"))
	}
	return op
}

// optional is nil for an empty value (coeurMetier: none).
func optional(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

func flag(v string) *bool {
	switch v {
	case flagYes:
		b := true
		return &b
	case flagNo:
		b := false
		return &b
	}
	return nil
}

// operations are the request's operations, create_fiche first for the kinds that create a fiche.
func (f *requestForm) operations() []refclient.Operation {
	ops := make([]refclient.Operation, 0, len(f.Ops)+1)
	if f.creates() {
		ops = append(ops, f.Fiche.operation(f.Kind))
	}
	for _, o := range f.Ops {
		ops = append(ops, o.operation(f.Kind))
	}
	return ops
}

// submission is the body of POST /v1/requests.
func (f *requestForm) submission() backend.Submission {
	s := backend.Submission{Kind: f.Kind, Title: strings.TrimSpace(f.Title),
		Justification: strings.TrimSpace(strings.ReplaceAll(f.Justification, "\r\n", "\n")), Operations: f.operations()}
	if f.Kind == request.KindModifyFiche {
		s.CodeRome = f.CodeRome
	}
	return s
}

// parseOpForm reads one operation block of kind op whose fields are named prefix.<field>
// (another page's block, e.g. a moderator's amendment named "amendement.op-2"), with the
// search result picked, if any, in its field.
func parseOpForm(form url.Values, prefix, op string) opForm {
	o := opForm{Op: op, V: map[string]string{}}
	picks := map[string]string{}
	for name, vals := range form {
		key, ok := strings.CutPrefix(name, prefix+".")
		if !ok || len(vals) == 0 || key == "op" || strings.HasPrefix(key, "ops.") {
			continue
		}
		if field, isPick := strings.CutSuffix(key, ".pick"); isPick {
			picks[field] = vals[0]
			continue
		}
		o.V[key] = vals[0]
	}
	for field, v := range picks {
		if code, _, _ := splitPick(v); code != "" {
			o.V[field], o.V[field+".label"], o.V[field+".q"] = code, v, ""
		}
	}
	return o
}

// opFormFrom is the block of an existing operation, its id kept (a moderator's amendment
// starts from the partner's operation; the partner amends the request's operations).
func opFormFrom(op refclient.Operation) opForm {
	o := newOpForm(op.Op)
	set := func(k, v string) {
		if v != "" {
			o.V[k] = v
		}
	}
	set("id", op.ID)
	set("codeOgr", op.CodeOgr)
	set("libelle", op.Libelle)
	set("libelleCourt", op.LibelleCourt)
	set("domaineProfessionnel", op.DomaineProfessionnel)
	set("definition", op.Definition)
	set("accesEmploi", op.AccesEmploi)
	if p := op.AppellationPrincipale; p != nil {
		set("appellationPrincipale.codeOgr", p.CodeOgr)
		set("appellationPrincipale.libelle", p.Libelle)
		set("appellationPrincipale.libelleCourt", p.LibelleCourt)
	}
	set("replacedBy", op.ReplacedBy)
	set("reason", op.Reason)
	set("toCodeRome", op.ToCodeRome)
	if op.Rank != nil {
		set("rank", strconv.Itoa(*op.Rank))
	}
	if op.CoeurMetier != nil {
		set("coeurMetier", *op.CoeurMetier)
	}
	if op.New != nil {
		o.V["source"] = sourceNew
		set("new.libelle", op.New.Libelle)
		set("new.macroCompetenceCodeOgr", op.New.MacroCompetenceCodeOgr)
		set("new.categorie", op.New.Categorie)
	}
	set("field", op.Field)
	set("text", op.Text)
	if op.TransitionEcologique != nil {
		o.V["transitionEcologique"] = orRaw(*op.TransitionEcologique, tagCleared)
	}
	for k, b := range map[string]*bool{"transitionNumerique": op.TransitionNumerique, "transitionDemographique": op.TransitionDemographique,
		"emploiReglemente": op.EmploiReglemente, "emploiCadre": op.EmploiCadre} {
		if b != nil {
			o.V[k] = map[bool]string{true: flagYes, false: flagNo}[*b]
		}
	}
	return o
}

// opFieldName is the form field of an operation's block (named prefix) that shows the
// API's field sub, or the block itself when it shows no such field.
func opFieldName(prefix string, o opForm, kind request.Kind, sub string) string {
	spec := formOpSpecByOp[o.Op]
	if sub == "appellationPrincipale" || sub == "new" {
		for _, d := range spec.Fields {
			if strings.HasPrefix(d.Key, sub+".") && d.Required && o.shows(d, kind) {
				return prefix + "." + d.Key
			}
		}
	}
	if d, ok := spec.field(sub); ok && o.shows(d, kind) {
		return prefix + "." + d.Key
	}
	return prefix
}

// formField maps a service's field path ("operations[3].libelle", "codeRome") to the
// form's field that shows it; "" for none (the error goes to the form's summary).
func (f *requestForm) formField(apiField string) string {
	switch apiField {
	case "kind", "title", "justification", "operations":
		return apiField
	case "codeRome":
		if f.creates() {
			return "kind"
		}
		return apiField
	}
	m := apiOpField.FindStringSubmatch(apiField)
	if m == nil {
		return ""
	}
	i, _ := strconv.Atoi(m[1])
	if f.creates() {
		if i == 0 {
			return opFieldName(fichePrefix, f.Fiche, f.Kind, m[2])
		}
		i--
	}
	if i >= len(f.Ops) {
		return "operations"
	}
	return opFieldName(fmt.Sprintf("ops.%d", i), f.Ops[i], f.Kind, m[2])
}

// resultField maps the field a referential result names (an operation's own field, or
// codeRome) to the form's field; prefix is the operation's block.
func (f *requestForm) resultField(prefix string, o opForm, field string) string {
	switch field {
	case "":
		return ""
	case "codeRome":
		if f.Kind == request.KindModifyFiche {
			return "codeRome"
		}
		return ""
	}
	if name := opFieldName(prefix, o, f.Kind, field); name != prefix {
		return name
	}
	return ""
}

// formID is the HTML id of a form field: its name with dashes.
func formID(name string) string { return strings.ReplaceAll(name, ".", "-") }

// fieldLabel is how the error summary names a form field.
func (f *requestForm) fieldLabel(name string) string {
	switch name {
	case "kind":
		return "Type de demande"
	case "codeRome":
		return "Code ROME"
	case "title":
		return "Titre"
	case "justification":
		return "Justification"
	case "operations":
		return "Opérations"
	case fichePrefix:
		return "Fiche à créer"
	}
	label := func(spec opSpec, key string) string {
		if d, ok := spec.field(key); ok {
			return d.Label
		}
		if key == "source" {
			return "Origine"
		}
		return key
	}
	if key, ok := strings.CutPrefix(name, fichePrefix+"."); ok {
		return "Fiche à créer – " + label(createFicheSpec, key)
	}
	if i, ok := strings.CutPrefix(name, "ops."); ok && !strings.Contains(i, ".") {
		n, _ := strconv.Atoi(i)
		if n < len(f.Ops) {
			return fmt.Sprintf("Opération %d (%s)", n+1, opLabels[f.Ops[n].Op])
		}
	}
	if i, key, ok := opName(name); ok && i < len(f.Ops) {
		return fmt.Sprintf("Opération %d (%s) – %s", i+1, opLabels[f.Ops[i].Op], label(formOpSpecByOp[f.Ops[i].Op], key))
	}
	return name
}

// fieldTarget is the id the error summary links to for a form field.
func (f *requestForm) fieldTarget(name string) string {
	switch name {
	case "":
		return ""
	case "kind":
		return "kind-" + string(request.KindModifyFiche)
	}
	if _, key, ok := opName(name); ok && key == "source" {
		return formID(name) + "-" + sourceExisting
	}
	return formID(name)
}

// fieldRank orders the error summary as the form shows its fields.
func (f *requestForm) fieldRank(name string) int {
	switch name {
	case "":
		return 0
	case "kind":
		return 1
	case "codeRome":
		return 2
	case "title":
		return 200
	case "justification":
		return 201
	case "operations":
		return 202
	}
	keyRank := func(spec opSpec, key string) int {
		for j, d := range spec.Fields {
			if d.Key == key {
				return j + 1
			}
		}
		return 0
	}
	if name == fichePrefix {
		return 3
	}
	if key, ok := strings.CutPrefix(name, fichePrefix+"."); ok {
		return 3 + keyRank(createFicheSpec, key)
	}
	if i, ok := strings.CutPrefix(name, "ops."); ok && !strings.Contains(i, ".") {
		n, _ := strconv.Atoi(i)
		return 1000 + n*100
	}
	if i, key, ok := opName(name); ok && i < len(f.Ops) {
		return 1000 + i*100 + keyRank(formOpSpecByOp[f.Ops[i].Op], key)
	}
	return 100_000
}

// summaryItem is an error of the summary, with the field it links to.
type summaryItem struct{ Target, Text string }

// errorSummary lists the errors in the order of the form.
func (f *requestForm) errorSummary(errs fieldErrors) []summaryItem {
	names := make([]string, 0, len(errs))
	for name := range errs {
		names = append(names, name)
	}
	sort.SliceStable(names, func(a, b int) bool {
		ra, rb := f.fieldRank(names[a]), f.fieldRank(names[b])
		if ra != rb {
			return ra < rb
		}
		return names[a] < names[b]
	})
	items := make([]summaryItem, 0, len(names))
	for _, name := range names {
		text := errs[name]
		if name != "" {
			text = f.fieldLabel(name) + " : " + text
		}
		items = append(items, summaryItem{Target: f.fieldTarget(name), Text: text})
	}
	return items
}
