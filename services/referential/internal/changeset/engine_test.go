package changeset_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/search"
	"github.com/plateforme-rome/rome/workflows/request"
)

// firstOGR starts the codes OGR the tests hand out, like the platform's own range.
const firstOGR = 90000001

// Official v460 content the cases rely on (checked by TestFixtures).
const (
	dev          = "M1805" // Développeur / Développeuse informatique
	devPrincipal = "14153" // its PRINCIPALE appellation
	devLabel     = "Développeur / Développeuse informatique"
	devSynonym   = "10944"  // Analyste développeur / Analyste développeuse, SYNONYME on M1805
	devSynShort  = "10963"  // a SYNONYME of M1805 whose short label differs from the long one
	appli        = "M1861"  // Développeur / Développeuse logiciel ou d'application
	appliSynonym = "14148"  // Développeur / Développeuse d'application, SYNONYME on M1861
	webPrincipal = "14156"  // Développeur / Développeuse web, PRINCIPALE of M1855
	devSkill     = "113317" // a compétence on M1805, coeur métier PRINCIPALE
	noFiche      = "N9999"  // a well-formed code ROME no fiche has
)

var (
	labelsOnce sync.Once
	labelIndex map[string]string
)

// appellationByLabel is the index of published labels the service gives the engine.
func appellationByLabel(t testing.TB) func(string) (string, bool) {
	base := romedata.V460(t)
	labelsOnce.Do(func() {
		labelIndex = map[string]string{}
		for _, r := range base.T(romecsv.Appellation).Rows() {
			labelIndex[search.LabelKey(col(romecsv.Appellation, r.Cols, "libelle_appellation_long"))] = col(romecsv.Appellation, r.Cols, "code_ogr")
		}
	})
	return func(k string) (string, bool) {
		ogr, ok := labelIndex[k]
		return ogr, ok
	}
}

func col(ds string, row []string, name string) string { return row[romecsv.MustByName(ds).Col(name)] }

func key(parts ...string) string { return strings.Join(parts, romecsv.KeySep) }

func str(s string) *string { return &s }
func num(n int) *int       { return &n }
func flag(b bool) *bool    { return &b }

// run is one change set applied to a transaction over a snapshot.
type run struct {
	base    *refdata.Snapshot
	tx      *refdata.Tx
	results []changeset.Result
	code    string   // the fiche the run ended on
	issued  []string // codes OGR handed out by NextOGR, in order
}

func runOn(t *testing.T, base *refdata.Snapshot, code string, ops ...changeset.Operation) *run {
	t.Helper()
	return runFrom(t, base, firstOGR, code, ops...)
}

// runFrom is runOn with the first code OGR to hand out.
func runFrom(t *testing.T, base *refdata.Snapshot, next int, code string, ops ...changeset.Operation) *run {
	t.Helper()
	r := &run{base: base, tx: base.Begin()}
	r.results, r.code = changeset.Run(r.tx, code, ops, changeset.Deps{
		NextOGR: func() string {
			s := strconv.Itoa(next)
			next++
			r.issued = append(r.issued, s)
			return s
		},
		AppellationByLabel: appellationByLabel(t),
		LabelKey:           search.LabelKey,
	})
	if len(r.results) != len(ops) {
		t.Fatalf("%d results for %d operations", len(r.results), len(ops))
	}
	return r
}

// applied runs operations that must all apply on the official v460, then publishes
// the rows and checks the referential rules on the result.
func applied(t *testing.T, code string, ops ...changeset.Operation) *run {
	t.Helper()
	r := runOn(t, romedata.V460(t), code, ops...)
	for _, res := range r.results {
		if !res.Applies {
			t.Fatalf("%s (%s) does not apply: %s %s: %s", res.OperationID, res.Op, res.Code, res.Field, res.Reason)
		}
	}
	r.publish(t)
	return r
}

// publish applies the staged rows to the base snapshot, checks the referential rules
// on the result and that every fiche the rows touch reads the same in the preview (the
// transaction) and in the published snapshot.
func (r *run) publish(t *testing.T) *refdata.Snapshot {
	t.Helper()
	changes := r.tx.Changes()
	next, err := r.base.Apply(refdata.Version{Number: r.base.Version.Number + 1}, changes)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	sc := scopeOf(changes)
	for _, p := range referentialProblems(next, sc) {
		t.Error(p)
	}
	touched := maps.Clone(sc.fiches)
	if r.code != "" {
		touched[r.code] = true
	}
	for code := range touched {
		preview, _ := fiche.Build(r.tx, code, 0)
		published, _ := fiche.Build(next, code, 0)
		a, _ := json.Marshal(preview)
		b, _ := json.Marshal(published)
		if string(a) != string(b) {
			t.Errorf("fiche %s: the preview differs from the published fiche\npreview:   %s\npublished: %s", code, a, b)
		}
	}
	return next
}

func (r *run) fiche(t *testing.T, code string) *fiche.Fiche {
	t.Helper()
	f, ok := fiche.Build(r.tx, code, 0)
	if !ok {
		t.Fatalf("fiche %s does not exist after the run", code)
	}
	return f
}

// changesOf lists the semantic changes of every result as "action entity codeOgr@fiche".
func (r *run) changesOf() []string {
	var out []string
	for _, res := range r.results {
		for _, c := range res.Changes {
			out = append(out, fmt.Sprintf("%s %s %s@%s", c.Action, c.Entity, c.CodeOgr, c.CodeRome))
		}
	}
	return out
}

func (r *run) row(t *testing.T, ds, k string) []string {
	t.Helper()
	row, ok := r.tx.Get(ds, k)
	if !ok {
		t.Fatalf("%s: no row %q", ds, strings.ReplaceAll(k, romecsv.KeySep, "|"))
	}
	return row
}

func (r *run) absent(t *testing.T, ds, k string) {
	t.Helper()
	if _, ok := r.tx.Get(ds, k); ok {
		t.Errorf("%s: row %q is still there", ds, strings.ReplaceAll(k, romecsv.KeySep, "|"))
	}
}

// --- what a user sees ------------------------------------------------------------

func appellation(f *fiche.Fiche, ogr string) *fiche.Appellation {
	for i := range f.Appellations {
		if f.Appellations[i].CodeOgr == ogr {
			return &f.Appellations[i]
		}
	}
	return nil
}

func appellationLabels(f *fiche.Fiche) []string {
	var out []string
	for _, a := range f.Appellations {
		out = append(out, a.Libelle)
	}
	return out
}

// competence finds a savoir-faire compétence (or a linked macro-compétence) of the fiche.
func competence(f *fiche.Fiche, ogr string) (macro *fiche.MacroCompetence, item *fiche.Item) {
	for i := range f.Competences.SavoirFaire {
		m := &f.Competences.SavoirFaire[i]
		if m.CodeOgr == ogr && m.Linked {
			return m, &fiche.Item{CodeOgr: m.CodeOgr, Libelle: m.Libelle, CoeurMetier: m.CoeurMetier}
		}
		for j := range m.Competences {
			if m.Competences[j].CodeOgr == ogr {
				return m, &m.Competences[j]
			}
		}
	}
	return nil, nil
}

func savoirEtre(f *fiche.Fiche, ogr string) *fiche.MacroCompetence {
	for i := range f.Competences.SavoirEtreProfessionnels {
		if f.Competences.SavoirEtreProfessionnels[i].CodeOgr == ogr {
			return &f.Competences.SavoirEtreProfessionnels[i]
		}
	}
	return nil
}

func savoir(f *fiche.Fiche, ogr string) (categorie string, s *fiche.Savoir) {
	for _, c := range f.Savoirs {
		for i := range c.Savoirs {
			if c.Savoirs[i].CodeOgr == ogr {
				return c.Categorie, &c.Savoirs[i]
			}
		}
	}
	return "", nil
}

func contexte(f *fiche.Fiche, ogr string) *fiche.Item {
	for _, c := range f.ContextesTravail {
		for i := range c.Contextes {
			if c.Contextes[i].CodeOgr == ogr {
				return &c.Contextes[i]
			}
		}
	}
	return nil
}

func coeur(v *string) string {
	if v == nil {
		return "null"
	}
	return *v
}

func mobilites(f *fiche.Fiche) []string {
	var out []string
	for _, m := range f.Mobilites {
		out = append(out, fmt.Sprintf("%d:%s", m.Rang, m.CodeRome))
	}
	return out
}

// --- items picked from the official data --------------------------------------------

type picks struct {
	compOff         string // a savoir-faire compétence not on M1805
	macro           string // a savoir-faire macro-compétence
	savoirEtreMacro string // a savoir-être macro-compétence
	savoirEtreOff   string // a savoir-être macro-compétence not on M1805
	savoirOn        string // a savoir on M1805
	savoirOff       string // a savoir not on M1805
	contexteOn      string
	contexteOff     string
	freeM18         string // the first code ROME of M18 no fiche has
}

var (
	picksOnce sync.Once
	picked    picks
)

func pick(t *testing.T) picks {
	base := romedata.V460(t)
	picksOnce.Do(func() {
		const C, S, X = romecsv.Competence, romecsv.Savoir, romecsv.Contexte
		on := func(bloc, rub, ogr string) bool {
			_, ok := base.Get(romecsv.Lien, key(dev, bloc, rub, ogr))
			return ok
		}
		for _, r := range base.T(C).Rows() {
			ogr, nature, cat := col(C, r.Cols, "code_ogr"), col(C, r.Cols, "nature"), col(C, r.Cols, "cat_comp")
			switch {
			case nature == romecsv.NatureCompetence && picked.compOff == "" && !on(romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire, ogr):
				picked.compOff = ogr
			case nature == romecsv.NatureMacroCompetence && cat == romecsv.CategorieSavoirFaire && picked.macro == "":
				picked.macro = ogr
			case nature == romecsv.NatureMacroCompetence && cat == romecsv.CategorieSavoirEtre:
				if picked.savoirEtreMacro == "" {
					picked.savoirEtreMacro = ogr
				}
				if picked.savoirEtreOff == "" && !on(romecsv.BlocCompetences, romecsv.RubriqueSavoirEtre, ogr) {
					picked.savoirEtreOff = ogr
				}
			}
		}
		for _, r := range base.T(S).Rows() {
			ogr := col(S, r.Cols, "code_ogr_savoir")
			if on(romecsv.BlocCompetences, romecsv.RubriqueSavoirs, ogr) {
				picked.savoirOn = ogr
			} else if picked.savoirOff == "" {
				picked.savoirOff = ogr
			}
		}
		for _, r := range base.T(X).Rows() {
			ogr := col(X, r.Cols, "code_ogr")
			if on(romecsv.BlocContextes, romecsv.RubriqueNone, ogr) {
				picked.contexteOn = ogr
			} else if picked.contexteOff == "" {
				picked.contexteOff = ogr
			}
		}
		for n := 1; n <= 99 && picked.freeM18 == ""; n++ {
			if code := fmt.Sprintf("M18%02d", n); len(base.ForRome(romecsv.Fiche, code)) == 0 {
				picked.freeM18 = code
			}
		}
	})
	for name, v := range map[string]string{"compOff": picked.compOff, "macro": picked.macro, "savoirEtreMacro": picked.savoirEtreMacro,
		"savoirEtreOff": picked.savoirEtreOff, "savoirOn": picked.savoirOn, "savoirOff": picked.savoirOff,
		"contexteOn": picked.contexteOn, "contexteOff": picked.contexteOff, "freeM18": picked.freeM18} {
		if v == "" {
			t.Fatalf("the official data has no %s", name)
		}
	}
	return picked
}

// TestFixtures pins the official content the cases name, so a new export fails here
// rather than in a confusing way below.
func TestFixtures(t *testing.T) {
	t.Parallel()
	base := romedata.V460(t)
	const A = romecsv.Appellation
	for _, c := range []struct{ ogr, code, classification, label string }{
		{devPrincipal, dev, romecsv.ClassificationPrincipale, devLabel},
		{devSynonym, dev, romecsv.ClassificationSynonyme, "Analyste développeur / Analyste développeuse"},
		{devSynShort, dev, romecsv.ClassificationSynonyme, "Analyste-programmeur / Analyste-programmeuse gestion informatique"},
		{appliSynonym, appli, romecsv.ClassificationSynonyme, "Développeur / Développeuse d'application"},
		{webPrincipal, "M1855", romecsv.ClassificationPrincipale, "Développeur / Développeuse web"},
	} {
		r, ok := base.Get(A, c.ogr)
		if !ok || col(A, r, "code_rome") != c.code || col(A, r, "classification") != c.classification || col(A, r, "libelle_appellation_long") != c.label {
			t.Errorf("appellation %s is %v, want %s %s %q", c.ogr, r, c.code, c.classification, c.label)
		}
	}
	if r, _ := base.Get(A, devSynShort); col(A, r, "libelle_appellation_court") == col(A, r, "libelle_appellation_long") {
		t.Errorf("appellation %s has the same short and long labels", devSynShort)
	}
	if _, ok := base.Get(romecsv.Fiche, noFiche); ok {
		t.Errorf("fiche %s exists", noFiche)
	}
	f, _ := fiche.Build(base, dev, 0)
	equal(t, "M1805 mobilités", mobilites(f), ranked(devTargets...))
	if _, c := competence(f, devSkill); c == nil || coeur(c.CoeurMetier) != fiche.CoeurPrincipale {
		t.Errorf("compétence %s on M1805: %+v", devSkill, c)
	}
	highest := 0
	for _, sp := range ogrSpaces {
		for _, r := range base.T(sp.dataset).Rows() {
			n, err := strconv.Atoi(col(sp.dataset, r.Cols, sp.col))
			if err != nil {
				t.Fatalf("%s: code OGR %q", sp.dataset, col(sp.dataset, r.Cols, sp.col))
			}
			highest = max(highest, n)
		}
	}
	if highest >= firstOGR {
		t.Errorf("official codes OGR reach %d, the tests hand out codes from %d", highest, firstOGR)
	}
	pick(t)
}

// devTargets are the mobilités of M1805, in rank order.
var devTargets = []string{"M1802", "M1803", "M1810", "M1812", "M1818", "M1824", "M1831", "M1832", "M1842", "E1206"}

func ranked(codes ...string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = fmt.Sprintf("%d:%s", i+1, c)
	}
	return out
}

func insertAt(list []string, i int, v string) []string {
	return slices.Insert(slices.Clone(list), i, v)
}

const (
	robotLabel = "Roboticien / Roboticienne logiciel"
	robotDef   = "Conçoit le logiciel des robots.\nProgramme l'interface homme-machine."
	robotAcces = "Bac+5 en robotique."
)

// newFiche is a create_fiche in M18.
func newFiche(principal changeset.AppellationPrincipale) changeset.Operation {
	// A fiche takes its principal appellation's label: libelle repeats it, or is left out.
	return changeset.Operation{Op: refclient.OpCreateFiche, Libelle: principal.Libelle, DomaineProfessionnel: "M18",
		Definition: robotDef, AccesEmploi: robotAcces, AppellationPrincipale: &principal}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// A refused operation does not stop the run: a dry run reports on every operation. The
// operations without an id are numbered as the request numbers them (op-N, skipping the
// ids given), so a result names the operation the request shows.
func TestRunReportsEveryOperation(t *testing.T) {
	t.Parallel()
	p := pick(t)
	r := runOn(t, romedata.V460(t), "", []changeset.Operation{
		newFiche(changeset.AppellationPrincipale{CodeOgr: webPrincipal}),
		{ID: "mine", Op: refclient.OpAddCompetence, CodeOgr: p.compOff},
		newFiche(changeset.AppellationPrincipale{Libelle: robotLabel}),
		{Op: refclient.OpAddCompetence, CodeOgr: "99999999"},
		{Op: refclient.OpAddCompetence, CodeOgr: p.compOff},
	}...)
	var got []string
	for _, res := range r.results {
		got = append(got, fmt.Sprintf("%s %s %v %s", res.OperationID, res.Op, res.Applies, res.Code))
	}
	equal(t, "results", got, []string{
		"op-1 create_fiche false principal_appellation",
		"mine add_competence false fiche_required",
		"op-2 create_fiche true ",
		"op-3 add_competence false unknown_competence",
		"op-4 add_competence true ",
	})
	equal(t, "fiche", r.code, p.freeM18)
	r.publish(t)
}

// Every kind of operation the request contract knows has its rule in the engine, which
// applies it: a kind added to request.OperationKinds fails here until the engine has it.
func TestEveryOperationKindIsApplied(t *testing.T) {
	t.Parallel()
	p := pick(t)
	examples := map[string]changeset.Operation{
		refclient.OpCreateFiche:       newFiche(changeset.AppellationPrincipale{Libelle: robotLabel}),
		refclient.OpAddAppellation:    {Libelle: "Développeur / Développeuse Go"},
		refclient.OpUpdateAppellation: {CodeOgr: devSynonym, LibelleCourt: "Analyste développeur(se)"},
		refclient.OpRemoveAppellation: {CodeOgr: devSynonym, Reason: "no longer used"},
		refclient.OpMoveAppellation:   {CodeOgr: devSynonym, ToCodeRome: appli},
		refclient.OpAddCompetence:     {CodeOgr: p.compOff},
		refclient.OpRemoveCompetence:  {CodeOgr: devSkill},
		refclient.OpSetCoeurMetier:    {CodeOgr: devSkill},
		refclient.OpAddSavoir:         {CodeOgr: p.savoirOff},
		refclient.OpRemoveSavoir:      {CodeOgr: p.savoirOn},
		refclient.OpAddContexte:       {CodeOgr: p.contexteOff},
		refclient.OpRemoveContexte:    {CodeOgr: p.contexteOn},
		refclient.OpAddMobilite:       {ToCodeRome: appli},
		refclient.OpRemoveMobilite:    {ToCodeRome: "M1810"},
		refclient.OpSetText:           {Field: refclient.FieldAccesEmploi, Text: "Bac+5."},
		refclient.OpSetTags:           {EmploiCadre: flag(false)},
	}
	for _, kind := range request.OperationKinds {
		op, ok := examples[kind]
		if !ok {
			t.Errorf("no example of %s: add one, and its rule to the engine", kind)
			continue
		}
		op.Op = kind
		code := dev
		if kind == refclient.OpCreateFiche {
			code = ""
		}
		if res := runOn(t, romedata.V460(t), code, op).results[0]; !res.Applies || len(res.Changes) == 0 {
			t.Errorf("%s: applies=%v %s %s, %d changes", kind, res.Applies, res.Code, res.Reason, len(res.Changes))
		}
	}
}

// New codes OGR come from NextOGR, in order, and never name an official item.
func TestNewCodesOGR(t *testing.T) {
	t.Parallel()
	p := pick(t)
	r := applied(t, "",
		newFiche(changeset.AppellationPrincipale{Libelle: robotLabel}),
		changeset.Operation{Op: refclient.OpAddAppellation, Libelle: "Roboticien / Roboticienne logiciel embarqué"},
		changeset.Operation{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "Programmer un robot", MacroCompetenceCodeOgr: p.macro}},
		changeset.Operation{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "ROS", Categorie: "Produits, outils et matières"}},
	)
	equal(t, "codes OGR", r.issued, []string{"90000001", "90000002", "90000003", "90000004", "90000005"})
	for _, ogr := range r.issued {
		for _, sp := range ogrSpaces {
			if _, taken := r.base.Get(sp.dataset, ogr); taken {
				t.Errorf("code OGR %s is an official %s", ogr, sp.dataset)
			}
		}
	}
	// Every row the run inserted in an OGR space carries a code NextOGR handed out.
	for _, c := range r.tx.Changes() {
		for _, sp := range ogrSpaces {
			if c.Dataset == sp.dataset && c.Old == nil && !slices.Contains(r.issued, col(sp.dataset, c.New, sp.col)) {
				t.Errorf("%s row %s has a code OGR NextOGR did not hand out", c.Dataset, c.Key)
			}
		}
	}
}
