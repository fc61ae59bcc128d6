package changeset_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/importer"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/search"
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
			case nature == "Compétence" && picked.compOff == "" && !on("5", "1", ogr):
				picked.compOff = ogr
			case nature == "Macro-compétence" && cat == "Savoir-faire" && picked.macro == "":
				picked.macro = ogr
			case nature == "Macro-compétence" && cat == "Savoir-être professionnel":
				if picked.savoirEtreMacro == "" {
					picked.savoirEtreMacro = ogr
				}
				if picked.savoirEtreOff == "" && !on("5", "2", ogr) {
					picked.savoirEtreOff = ogr
				}
			}
		}
		for _, r := range base.T(S).Rows() {
			ogr := col(S, r.Cols, "code_ogr_savoir")
			if on("5", "3", ogr) {
				picked.savoirOn = ogr
			} else if picked.savoirOff == "" {
				picked.savoirOff = ogr
			}
		}
		for _, r := range base.T(X).Rows() {
			ogr := col(X, r.Cols, "code_ogr")
			if on("6", "", ogr) {
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
	base := romedata.V460(t)
	const A = romecsv.Appellation
	for _, c := range []struct{ ogr, code, classification, label string }{
		{devPrincipal, dev, "PRINCIPALE", devLabel},
		{devSynonym, dev, "SYNONYME", "Analyste développeur / Analyste développeuse"},
		{devSynShort, dev, "SYNONYME", "Analyste-programmeur / Analyste-programmeuse gestion informatique"},
		{appliSynonym, appli, "SYNONYME", "Développeur / Développeuse d'application"},
		{webPrincipal, "M1855", "PRINCIPALE", "Développeur / Développeuse web"},
	} {
		r, ok := base.Get(A, c.ogr)
		if !ok || col(A, r, "code_rome") != c.code || col(A, r, "classification") != c.classification || col(A, r, "libelle_appellation_long") != c.label {
			t.Errorf("appellation %s is %v, want %s %s %q", c.ogr, r, c.code, c.classification, c.label)
		}
	}
	if r, _ := base.Get(A, devSynShort); col(A, r, "libelle_appellation_court") == col(A, r, "libelle_appellation_long") {
		t.Errorf("appellation %s has the same short and long labels", devSynShort)
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

func TestOperationsApply(t *testing.T) {
	p := pick(t)
	const A, AR, L, H, C = romecsv.Appellation, romecsv.Arborescence, romecsv.Lien, romecsv.Coherence, romecsv.Competence
	devFiche := func(t *testing.T, r *run) []string { return r.row(t, romecsv.Fiche, dev) }
	// arboOf checks the arborescence row of an appellation against the fiche it is on.
	arboOf := func(t *testing.T, r *run, ogr, code string) []string {
		t.Helper()
		a, f := r.row(t, AR, key("4", "", "", "", ogr)), r.row(t, romecsv.Fiche, code)
		equal(t, "arborescence ogr_rome", col(AR, a, "ogr_rome"), col(romecsv.Fiche, f, "code_ogr"))
		equal(t, "arborescence code_fiche", col(AR, a, "code_fiche"), col(romecsv.Fiche, f, "code_fiche_metier"))
		return a
	}
	endsOn := func(t *testing.T, r *run, code string) {
		t.Helper()
		if r.code != code {
			t.Fatalf("the run ended on fiche %q, want %s", r.code, code)
		}
	}
	noRowChange := func(t *testing.T, r *run) {
		t.Helper()
		if cs := r.tx.Changes(); len(cs) != 0 {
			t.Errorf("%d row changes, want none: first %s %q", len(cs), cs[0].Dataset, cs[0].Key)
		}
	}

	cases := []struct {
		name  string
		code  string
		ops   []changeset.Operation
		check func(t *testing.T, r *run)
	}{
		{"create_fiche with a new principal appellation", "",
			[]changeset.Operation{newFiche(changeset.AppellationPrincipale{Libelle: robotLabel, LibelleCourt: "Roboticien(ne) logiciel"})},
			func(t *testing.T, r *run) {
				endsOn(t, r, p.freeM18)
				equal(t, "codes OGR", r.issued, []string{"90000001", "90000002"})
				f := r.fiche(t, r.code)
				equal(t, "libelle", f.Libelle, robotLabel)
				equal(t, "codes", [2]string{f.CodeOgr, f.CodeFicheMetier}, [2]string{"90000001", "90000001"})
				equal(t, "domaine", f.DomaineProfessionnel, fiche.Ref{Code: "M18", Libelle: "Systèmes d'information et de télécommunication"})
				equal(t, "grand domaine", f.GrandDomaine.Code, "M")
				equal(t, "appellations", f.Appellations, []fiche.Appellation{{CodeOgr: "90000002", Libelle: robotLabel,
					LibelleCourt: "Roboticien(ne) logiciel", Classification: "PRINCIPALE"}})
				equal(t, "definition", f.Textes.Definition, []string{"Conçoit le logiciel des robots.", "Programme l'interface homme-machine."})
				equal(t, "accès", f.AccesEmploi, robotAcces)
				equal(t, "texte row", col(romecsv.Texte, r.row(t, romecsv.Texte, key(r.code, "definition", "2")), "libelle_texte"),
					"Programme l''interface homme-machine.")
				equal(t, "arborescence intitule", col(AR, r.row(t, AR, key("3", "M", "18", r.code[3:], "")), "intitule"), robotLabel)
				arboOf(t, r, "90000002", r.code)
				equal(t, "changes", r.changesOf(), []string{"created fiche 90000001@" + r.code, "added appellation 90000002@" + r.code})
			}},
		{"create_fiche from a known appellation takes its label", "",
			[]changeset.Operation{newFiche(changeset.AppellationPrincipale{CodeOgr: devSynonym})},
			func(t *testing.T, r *run) {
				const label = "Analyste développeur / Analyste développeuse"
				endsOn(t, r, p.freeM18)
				equal(t, "codes OGR", r.issued, []string{"90000001"})
				f := r.fiche(t, r.code)
				equal(t, "libelle", f.Libelle, label)
				equal(t, "appellations", len(f.Appellations), 1)
				if a := appellation(f, devSynonym); a == nil || a.Classification != "PRINCIPALE" {
					t.Errorf("appellation %s on the new fiche: %+v", devSynonym, a)
				}
				if appellation(r.fiche(t, dev), devSynonym) != nil {
					t.Errorf("appellation %s is still on %s", devSynonym, dev)
				}
				equal(t, "cr_gd_dp libelle", col(romecsv.FicheDomaine, r.row(t, romecsv.FicheDomaine, r.code), "libelle_rome"), label)
				equal(t, "arborescence intitule", col(AR, r.row(t, AR, key("3", "M", "18", r.code[3:], "")), "intitule"), label)
				arboOf(t, r, devSynonym, r.code)
				equal(t, "changes", r.changesOf(), []string{"created fiche 90000001@" + r.code,
					"moved appellation " + devSynonym + "@" + dev, "added appellation " + devSynonym + "@" + r.code})
			}},
		{"add_appellation", dev,
			[]changeset.Operation{{Op: refclient.OpAddAppellation, Libelle: "  Développeur / Développeuse Go  "}},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				equal(t, "appellation", appellation(f, "90000001"), &fiche.Appellation{CodeOgr: "90000001", Libelle: "Développeur / Développeuse Go",
					LibelleCourt: "Développeur / Développeuse Go", Classification: "SYNONYME"})
				equal(t, "fiche libelle", f.Libelle, devLabel)
				equal(t, "lien", len(r.row(t, L, key(dev, "2", "", "90000001"))) > 0, true)
				a := arboOf(t, r, "90000001", dev)
				equal(t, "arborescence label", col(AR, a, "libelle_appellation_long"), "Développeur / Développeuse Go")
				equal(t, "changes", r.changesOf(), []string{"added appellation 90000001@" + dev})
				equal(t, "change label", r.results[0].Changes[0].Libelle, "Développeur / Développeuse Go")
			}},
		{"add_appellation with a short label", dev,
			[]changeset.Operation{{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse d'applications en microservices", LibelleCourt: "Développeur(se) microservices"}},
			func(t *testing.T, r *run) {
				a := appellation(r.fiche(t, dev), "90000001")
				if a == nil || a.LibelleCourt != "Développeur(se) microservices" {
					t.Errorf("appellation %+v", a)
				}
				equal(t, "arborescence short label", col(AR, arboOf(t, r, "90000001", dev), "libelle_appellation_court"), "Développeur(se) microservices")
			}},
		{"update_appellation renames a synonym and its short label", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: "Analyste développeur / Analyste développeuse logiciel"}},
			func(t *testing.T, r *run) {
				const label = "Analyste développeur / Analyste développeuse logiciel"
				f := r.fiche(t, dev)
				a := appellation(f, devSynonym)
				equal(t, "labels", [2]string{a.Libelle, a.LibelleCourt}, [2]string{label, label})
				equal(t, "fiche libelle", f.Libelle, devLabel)
				arbo := arboOf(t, r, devSynonym, dev)
				equal(t, "arborescence labels", [2]string{col(AR, arbo, "libelle_appellation_long"), col(AR, arbo, "libelle_appellation_court")}, [2]string{label, label})
				equal(t, "changes", r.changesOf(), []string{"updated appellation " + devSynonym + "@" + dev, "updated appellation " + devSynonym + "@" + dev})
				equal(t, "changed fields", [2]string{r.results[0].Changes[0].Field, r.results[0].Changes[1].Field}, [2]string{"libelle", "libelleCourt"})
			}},
		{"update_appellation keeps a short label of its own", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devSynShort, Libelle: "Analyste-programmeur / Analyste-programmeuse en gestion informatique"}},
			func(t *testing.T, r *run) {
				a := appellation(r.fiche(t, dev), devSynShort)
				equal(t, "labels", [2]string{a.Libelle, a.LibelleCourt},
					[2]string{"Analyste-programmeur / Analyste-programmeuse en gestion informatique", "Analyste-programmeur(se) gestion informatique"})
			}},
		{"update_appellation of the short label only", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devSynShort, LibelleCourt: " Analyste-prog. gestion "}},
			func(t *testing.T, r *run) {
				a := appellation(r.fiche(t, dev), devSynShort)
				equal(t, "labels", [2]string{a.Libelle, a.LibelleCourt},
					[2]string{"Analyste-programmeur / Analyste-programmeuse gestion informatique", "Analyste-prog. gestion"})
				equal(t, "arborescence short label", col(AR, arboOf(t, r, devSynShort, dev), "libelle_appellation_court"), "Analyste-prog. gestion")
			}},
		{"renaming the principal appellation renames the fiche everywhere", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devPrincipal, Libelle: "Développeur / Développeuse informatique et logiciel"}},
			func(t *testing.T, r *run) {
				const label = "Développeur / Développeuse informatique et logiciel"
				f := r.fiche(t, dev)
				equal(t, "fiche libelle", f.Libelle, label)
				equal(t, "principal", appellation(f, devPrincipal).Libelle, label)
				equal(t, "referentiel_code_rome", col(romecsv.Fiche, devFiche(t, r), "libelle_rome"), label)
				equal(t, "cr_gd_dp", col(romecsv.FicheDomaine, r.row(t, romecsv.FicheDomaine, dev), "libelle_rome"), label)
				for _, name := range []string{romecsv.FicheSecteurActivite, romecsv.FicheSecteurNaf, romecsv.FicheCentreInteret, romecsv.FicheTheme} {
					rows := r.tx.ForRome(name, dev)
					if len(rows) == 0 {
						t.Errorf("%s has no row for %s", name, dev)
					}
					for _, row := range rows {
						equal(t, name, col(name, row, "libelle_rome"), label)
					}
				}
				equal(t, "arborescence intitule", col(AR, r.row(t, AR, key("3", "M", "18", "05", "")), "intitule"), label)
				equal(t, "arborescence appellation", col(AR, arboOf(t, r, devPrincipal, dev), "libelle_appellation_long"), label)
				// Fiches with a mobilité to M1805 show the new label.
				for _, m := range r.fiche(t, "E1111").Mobilites {
					if m.CodeRome == dev {
						equal(t, "E1111 mobilité label", m.Libelle, label)
					}
				}
				// The short label was the whole label, so it follows: two appellation fields change.
				equal(t, "changes", r.changesOf(), []string{"updated appellation " + devPrincipal + "@" + dev, "updated appellation " + devPrincipal + "@" + dev, "updated fiche @" + dev})
			}},
		{"the principal appellation in the other-gender order is a new spelling, not a duplicate", dev,
			[]changeset.Operation{{Op: refclient.OpUpdateAppellation, CodeOgr: devPrincipal, Libelle: "Développeuse / Développeur informatique"}},
			func(t *testing.T, r *run) {
				equal(t, "fiche libelle", r.fiche(t, dev).Libelle, "Développeuse / Développeur informatique")
			}},
		{"remove_appellation with a successor", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, ReplacedBy: devPrincipal}},
			func(t *testing.T, r *run) {
				if appellation(r.fiche(t, dev), devSynonym) != nil {
					t.Error("the appellation is still on the fiche")
				}
				r.absent(t, A, devSynonym)
				r.absent(t, L, key(dev, "2", "", devSynonym))
				r.absent(t, AR, key("4", "", "", "", devSynonym))
				equal(t, "after", r.results[0].Changes[0].After, any(map[string]string{"replacedBy": devPrincipal}))
			}},
		{"remove_appellation with a reason", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, Reason: "no longer used"}},
			func(t *testing.T, r *run) {
				if appellation(r.fiche(t, dev), devSynonym) != nil {
					t.Error("the appellation is still on the fiche")
				}
				equal(t, "after", r.results[0].Changes[0].After, any(map[string]string{"reason": "no longer used"}))
			}},
		{"move_appellation", dev,
			[]changeset.Operation{{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym, ToCodeRome: appli}},
			func(t *testing.T, r *run) {
				if appellation(r.fiche(t, dev), devSynonym) != nil {
					t.Error("the appellation is still on M1805")
				}
				if a := appellation(r.fiche(t, appli), devSynonym); a == nil || a.Classification != "SYNONYME" {
					t.Errorf("on %s: %+v", appli, a)
				}
				row := r.row(t, A, devSynonym)
				equal(t, "code_rome", col(A, row, "code_rome"), appli)
				equal(t, "code_rome_parent", col(A, row, "code_rome_parent"), col(romecsv.Fiche, r.row(t, romecsv.Fiche, appli), "code_rome_parent"))
				r.absent(t, L, key(dev, "2", "", devSynonym))
				arboOf(t, r, devSynonym, appli)
				equal(t, "changes", r.changesOf(), []string{"moved appellation " + devSynonym + "@" + dev, "added appellation " + devSynonym + "@" + appli})
			}},
		{"add_competence of an existing compétence as coeur de métier", dev,
			[]changeset.Operation{{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)}},
			func(t *testing.T, r *run) {
				m, c := competence(r.fiche(t, dev), p.compOff)
				if c == nil {
					t.Fatal("the compétence is not on the fiche")
				}
				equal(t, "coeur métier", coeur(c.CoeurMetier), fiche.CoeurPrincipale)
				equal(t, "macro", m.CodeOgr, col(C, r.row(t, C, p.compOff), "code_ogr_macro_comp"))
				r.row(t, L, key(dev, "5", "1", p.compOff))
				equal(t, "coherence", col(H, r.row(t, H, key(dev, p.compOff)), "coeur_metier"), "Principale")
			}},
		{"add_competence of a savoir-être professionnel", dev,
			[]changeset.Operation{{Op: refclient.OpAddCompetence, CodeOgr: p.savoirEtreOff}},
			func(t *testing.T, r *run) {
				m := savoirEtre(r.fiche(t, dev), p.savoirEtreOff)
				if m == nil || m.CoeurMetier != nil {
					t.Errorf("savoir-être %+v", m)
				}
				r.row(t, L, key(dev, "5", "2", p.savoirEtreOff))
			}},
		{"add_competence of a new compétence", dev,
			[]changeset.Operation{{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: " Développer en Go ", MacroCompetenceCodeOgr: p.macro}, CoeurMetier: str(fiche.CoeurEmergente)}},
			func(t *testing.T, r *run) {
				m, c := competence(r.fiche(t, dev), "90000001")
				if c == nil {
					t.Fatal("the new compétence is not on the fiche")
				}
				equal(t, "compétence", *c, fiche.Item{CodeOgr: "90000001", Libelle: "Développer en Go", CoeurMetier: str(fiche.CoeurEmergente)})
				equal(t, "macro", m.CodeOgr, p.macro)
				row := r.row(t, C, "90000001")
				equal(t, "row", [3]string{col(C, row, "nature"), col(C, row, "cat_comp"), col(C, row, "code_ogr_macro_comp")}, [3]string{"Compétence", "Savoir-faire", p.macro})
				equal(t, "item rubrique", col(romecsv.Item, r.row(t, romecsv.Item, "90000001"), "code_rubrique"), "1")
				equal(t, "changes", r.changesOf(), []string{"created competence 90000001@" + dev})
			}},
		{"remove_competence", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveCompetence, CodeOgr: devSkill}},
			func(t *testing.T, r *run) {
				if _, c := competence(r.fiche(t, dev), devSkill); c != nil {
					t.Error("the compétence is still on the fiche")
				}
				r.absent(t, L, key(dev, "5", "1", devSkill))
				r.absent(t, H, key(dev, devSkill))
				r.row(t, C, devSkill) // a published compétence stays in the referential
			}},
		{"set_coeur_metier from principale to émergente", dev,
			[]changeset.Operation{{Op: refclient.OpSetCoeurMetier, CodeOgr: devSkill, CoeurMetier: str(fiche.CoeurEmergente)}},
			func(t *testing.T, r *run) {
				_, c := competence(r.fiche(t, dev), devSkill)
				equal(t, "coeur métier", coeur(c.CoeurMetier), fiche.CoeurEmergente)
				equal(t, "change", coeur(r.results[0].Changes[0].After.(*string)), fiche.CoeurEmergente)
			}},
		{"set_coeur_metier to null", dev,
			[]changeset.Operation{{Op: refclient.OpSetCoeurMetier, CodeOgr: devSkill}},
			func(t *testing.T, r *run) {
				_, c := competence(r.fiche(t, dev), devSkill)
				equal(t, "coeur métier", coeur(c.CoeurMetier), "null")
			}},
		{"set_coeur_metier on a savoir", dev,
			[]changeset.Operation{{Op: refclient.OpSetCoeurMetier, CodeOgr: p.savoirOn, CoeurMetier: str(fiche.CoeurPrincipale)}},
			func(t *testing.T, r *run) {
				_, s := savoir(r.fiche(t, dev), p.savoirOn)
				equal(t, "coeur métier", coeur(s.CoeurMetier), fiche.CoeurPrincipale)
			}},
		{"add_savoir of an existing savoir", dev,
			[]changeset.Operation{{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOff}},
			func(t *testing.T, r *run) {
				cat, s := savoir(r.fiche(t, dev), p.savoirOff)
				if s == nil {
					t.Fatal("the savoir is not on the fiche")
				}
				equal(t, "categorie", cat, col(romecsv.Savoir, r.row(t, romecsv.Savoir, p.savoirOff), "categorie_savoir"))
				r.row(t, L, key(dev, "5", "3", p.savoirOff))
			}},
		{"add_savoir of a new savoir", dev,
			[]changeset.Operation{{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "Langage Go", Categorie: "Techniques professionnelles"}, CoeurMetier: str(fiche.CoeurPrincipale)}},
			func(t *testing.T, r *run) {
				cat, s := savoir(r.fiche(t, dev), "90000001")
				if s == nil {
					t.Fatal("the new savoir is not on the fiche")
				}
				equal(t, "savoir", [3]string{cat, s.Libelle, coeur(s.CoeurMetier)}, [3]string{"Techniques professionnelles", "Langage Go", fiche.CoeurPrincipale})
				equal(t, "item rubrique", col(romecsv.Item, r.row(t, romecsv.Item, "90000001"), "code_rubrique"), "3")
				equal(t, "changes", r.changesOf(), []string{"created savoir 90000001@" + dev})
			}},
		{"remove_savoir", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveSavoir, CodeOgr: p.savoirOn}},
			func(t *testing.T, r *run) {
				if _, s := savoir(r.fiche(t, dev), p.savoirOn); s != nil {
					t.Error("the savoir is still on the fiche")
				}
				r.absent(t, L, key(dev, "5", "3", p.savoirOn))
				r.absent(t, H, key(dev, p.savoirOn))
			}},
		{"add_contexte", dev,
			[]changeset.Operation{{Op: refclient.OpAddContexte, CodeOgr: p.contexteOff}},
			func(t *testing.T, r *run) {
				if contexte(r.fiche(t, dev), p.contexteOff) == nil {
					t.Error("the contexte is not on the fiche")
				}
				r.row(t, L, key(dev, "6", "", p.contexteOff))
			}},
		{"remove_contexte", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveContexte, CodeOgr: p.contexteOn}},
			func(t *testing.T, r *run) {
				if contexte(r.fiche(t, dev), p.contexteOn) != nil {
					t.Error("the contexte is still on the fiche")
				}
				r.absent(t, L, key(dev, "6", "", p.contexteOn))
			}},
		{"add_mobilite at a rank", dev,
			[]changeset.Operation{{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(3)}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(insertAt(devTargets, 2, appli)...))
				equal(t, "change", r.results[0].Changes[0].After, any(map[string]any{"codeRome": appli, "rang": 3}))
			}},
		{"add_mobilite first", dev,
			[]changeset.Operation{{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(1)}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(insertAt(devTargets, 0, appli)...))
			}},
		{"add_mobilite at the last rank", dev,
			[]changeset.Operation{{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(len(devTargets) + 1)}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(append(slices.Clone(devTargets), appli)...))
			}},
		{"add_mobilite without a rank goes last", dev,
			[]changeset.Operation{{Op: refclient.OpAddMobilite, ToCodeRome: appli}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(append(slices.Clone(devTargets), appli)...))
			}},
		{"remove_mobilite renumbers the rest", dev,
			[]changeset.Operation{{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1810"}},
			func(t *testing.T, r *run) {
				equal(t, "mobilités", mobilites(r.fiche(t, dev)), ranked(slices.Delete(slices.Clone(devTargets), 2, 3)...))
				equal(t, "change", r.results[0].Changes[0].Before, any(map[string]any{"codeRome": "M1810", "rang": 3}))
				r.absent(t, romecsv.Mobilite, key(dev, "M1810"))
			}},
		{"set_text definition, one row per line", dev,
			[]changeset.Operation{{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: "Conçoit des logiciels.\r\n\n  Participe à l'analyse des besoins.  \n"}},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				equal(t, "sentences", f.Textes.Definition, []string{"Conçoit des logiciels.", "Participe à l'analyse des besoins."})
				equal(t, "definition", f.Definition, "Conçoit des logiciels.\nParticipe à l'analyse des besoins.")
				equal(t, "row 2", col(romecsv.Texte, r.row(t, romecsv.Texte, key(dev, "definition", "2")), "libelle_texte"), "Participe à l''analyse des besoins.")
				r.absent(t, romecsv.Texte, key(dev, "definition", "3"))
				equal(t, "accès unchanged", f.AccesEmploi, "Cet emploi est accessible avec un niveau Bac+2 à Bac+5  dans le domaine de l'informatique.")
				equal(t, "change", r.results[0].Changes[0].After, any(f.Definition))
			}},
		{"set_text accesEmploi", dev,
			[]changeset.Operation{{Op: refclient.OpSetText, Field: refclient.FieldAccesEmploi, Text: "Bac+3 en informatique.\nUne expérience est demandée."}},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				equal(t, "sentences", f.Textes.AccesEmploi, []string{"Bac+3 en informatique.", "Une expérience est demandée."})
				equal(t, "definition unchanged", len(f.Textes.Definition), 7)
				equal(t, "bloc", col(romecsv.Texte, r.row(t, romecsv.Texte, key(dev, "acces_metier", "2")), "code_compo_bloc"), "4")
			}},
		{"set_tags", dev,
			[]changeset.Operation{{Op: refclient.OpSetTags, TransitionEcologique: str("Emploi Vert"), TransitionDemographique: flag(true), EmploiCadre: flag(false)}},
			func(t *testing.T, r *run) {
				equal(t, "tags", r.fiche(t, dev).Tags, fiche.Tags{TransitionEcologique: "Emploi Vert", TransitionNumerique: flag(true),
					TransitionDemographique: flag(true), EmploiReglemente: flag(false), EmploiCadre: flag(false)})
				row := devFiche(t, r)
				equal(t, "row", [3]string{col(romecsv.Fiche, row, "transition_eco"), col(romecsv.Fiche, row, "transition_demo"), col(romecsv.Fiche, row, "emploi_cadre")},
					[3]string{"Emploi Vert", "O", "N"})
				equal(t, "changes", r.changesOf(), []string{"updated tags @" + dev, "updated tags @" + dev, "updated tags @" + dev})
			}},

		// Chaining: later operations see what earlier ones staged.
		{"create_fiche then add_competence and add_savoir on the new fiche", "",
			[]changeset.Operation{
				newFiche(changeset.AppellationPrincipale{Libelle: robotLabel}),
				{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)},
				{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "Robotique logicielle", Categorie: "Domaines d'expertise"}},
				{Op: refclient.OpAddMobilite, ToCodeRome: dev, Rank: num(1)},
			},
			func(t *testing.T, r *run) {
				endsOn(t, r, p.freeM18)
				f := r.fiche(t, r.code)
				if _, c := competence(f, p.compOff); c == nil || coeur(c.CoeurMetier) != fiche.CoeurPrincipale {
					t.Errorf("compétence on the new fiche: %+v", c)
				}
				if cat, s := savoir(f, "90000003"); s == nil || cat != "Domaines d'expertise" {
					t.Errorf("new savoir on the new fiche: %q %+v", cat, s)
				}
				equal(t, "mobilités", mobilites(f), []string{"1:" + dev})
				if _, c := competence(r.fiche(t, dev), p.compOff); c != nil {
					t.Error("the compétence went to M1805")
				}
				for _, c := range r.changesOf() {
					if !strings.HasSuffix(c, "@"+r.code) {
						t.Errorf("change %s is not on the new fiche", c)
					}
				}
			}},
		{"two operations on the same compétence", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurEmergente)},
				{Op: refclient.OpSetCoeurMetier, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)},
			},
			func(t *testing.T, r *run) {
				_, c := competence(r.fiche(t, dev), p.compOff)
				equal(t, "coeur métier", coeur(c.CoeurMetier), fiche.CoeurPrincipale)
			}},
		{"an appellation added then renamed in the same run", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Go"},
				{Op: refclient.OpUpdateAppellation, CodeOgr: "90000001", Libelle: "Développeur / Développeuse Golang"},
			},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				a := appellation(f, "90000001")
				equal(t, "labels", [2]string{a.Libelle, a.LibelleCourt}, [2]string{"Développeur / Développeuse Golang", "Développeur / Développeuse Golang"})
				before, _ := fiche.Build(r.base, dev, 0)
				equal(t, "appellations", len(f.Appellations), len(before.Appellations)+1)
				if slices.Contains(appellationLabels(f), "Développeur / Développeuse Go") {
					t.Error("the first label is still on the fiche")
				}
			}},
		{"set_text twice: the last one wins", dev,
			[]changeset.Operation{
				{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: "Première version."},
				{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: "Seconde version.\nAvec deux phrases."},
			},
			func(t *testing.T, r *run) {
				equal(t, "sentences", r.fiche(t, dev).Textes.Definition, []string{"Seconde version.", "Avec deux phrases."})
			}},
		{"a mobilité added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(1)},
				{Op: refclient.OpRemoveMobilite, ToCodeRome: appli},
			}, noRowChange},
		{"a new compétence added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "Développer en Go", MacroCompetenceCodeOgr: p.macro}},
				{Op: refclient.OpRemoveCompetence, CodeOgr: "90000001"},
			}, noRowChange},
		{"a new savoir added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "Langage Go", Categorie: "Techniques professionnelles"}},
				{Op: refclient.OpRemoveSavoir, CodeOgr: "90000001"},
			}, noRowChange},
		{"an existing contexte added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddContexte, CodeOgr: p.contexteOff},
				{Op: refclient.OpRemoveContexte, CodeOgr: p.contexteOff},
			}, noRowChange},
		{"an appellation added then removed leaves no row change", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Go"},
				{Op: refclient.OpRemoveAppellation, CodeOgr: "90000001", Reason: "added by mistake"},
			}, noRowChange},
		{"a label the run freed can be given again", dev,
			[]changeset.Operation{
				{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Go"},
				{Op: refclient.OpRemoveAppellation, CodeOgr: "90000001", Reason: "wrong fiche"},
				{Op: refclient.OpAddAppellation, Libelle: "Développeuse / Développeur Go"},
				{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: "Analyste développeur / Analyste développeuse logiciel"},
				{Op: refclient.OpAddAppellation, Libelle: "Analyste développeur / Analyste développeuse"},
			},
			func(t *testing.T, r *run) {
				f := r.fiche(t, dev)
				if a := appellation(f, "90000002"); a == nil || a.Libelle != "Développeuse / Développeur Go" {
					t.Errorf("re-added appellation: %+v", a)
				}
				if a := appellation(f, "90000003"); a == nil || a.Libelle != "Analyste développeur / Analyste développeuse" {
					t.Errorf("appellation with the freed label: %+v", a)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := applied(t, c.code, c.ops...)
			c.check(t, r)
		})
	}
}

func TestRefusals(t *testing.T) {
	p := pick(t)
	type op = changeset.Operation
	addApp := func(label string) op { return op{Op: refclient.OpAddAppellation, Libelle: label} }
	withPrincipal := func(a changeset.AppellationPrincipale) op { return newFiche(a) }
	without := func(edit func(*op)) op {
		o := newFiche(changeset.AppellationPrincipale{Libelle: robotLabel})
		edit(&o)
		return o
	}
	cases := []struct {
		name      string
		code      string
		before    []op // operations of the same run, which apply
		op        op
		wantCode  string
		wantField string
	}{
		// The fiche.
		{"unknown fiche", "Z9999", nil, addApp("Développeur / Développeuse Go"), "unknown_fiche", "codeRome"},
		{"operation without a fiche", "", nil, op{Op: refclient.OpAddCompetence, CodeOgr: p.compOff}, "fiche_required", "codeRome"},
		{"unknown operation", dev, nil, op{Op: "rename_fiche"}, "unknown_operation", "op"},

		// Unknown codes OGR.
		{"add_competence of an unknown code OGR", dev, nil, op{Op: refclient.OpAddCompetence, CodeOgr: "99999999"}, "unknown_competence", "codeOgr"},
		{"add_competence without code OGR", dev, nil, op{Op: refclient.OpAddCompetence}, "field_required", "codeOgr"},
		{"add_competence of a savoir's code", dev, nil, op{Op: refclient.OpAddCompetence, CodeOgr: p.savoirOff}, "unknown_competence", "codeOgr"},
		{"add_savoir of an unknown code OGR", dev, nil, op{Op: refclient.OpAddSavoir, CodeOgr: "99999999"}, "unknown_savoir", "codeOgr"},
		{"add_contexte of an unknown code OGR", dev, nil, op{Op: refclient.OpAddContexte, CodeOgr: "99999999"}, "unknown_contexte", "codeOgr"},
		{"remove_competence of an unknown code OGR", dev, nil, op{Op: refclient.OpRemoveCompetence, CodeOgr: "99999999"}, "unknown_competence", "codeOgr"},
		{"remove_savoir of an unknown code OGR", dev, nil, op{Op: refclient.OpRemoveSavoir, CodeOgr: "99999999"}, "unknown_savoir", "codeOgr"},
		{"remove_contexte of an unknown code OGR", dev, nil, op{Op: refclient.OpRemoveContexte, CodeOgr: "99999999"}, "unknown_contexte", "codeOgr"},
		{"update_appellation of an unknown code OGR", dev, nil, op{Op: refclient.OpUpdateAppellation, CodeOgr: "99999999", Libelle: "X"}, "unknown_appellation", "codeOgr"},
		{"update_appellation without code OGR", dev, nil, op{Op: refclient.OpUpdateAppellation, Libelle: "X"}, "field_required", "codeOgr"},
		{"remove_appellation of an unknown code OGR", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: "99999999", Reason: "x"}, "unknown_appellation", "codeOgr"},
		{"move_appellation of an unknown code OGR", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: "99999999", ToCodeRome: appli}, "unknown_appellation", "codeOgr"},
		{"set_coeur_metier of an unknown code OGR", dev, nil, op{Op: refclient.OpSetCoeurMetier, CodeOgr: "99999999"}, "not_on_fiche", "codeOgr"},

		// Not on the fiche.
		{"remove_competence not on the fiche", dev, nil, op{Op: refclient.OpRemoveCompetence, CodeOgr: p.compOff}, "not_on_fiche", "codeOgr"},
		{"remove_savoir not on the fiche", dev, nil, op{Op: refclient.OpRemoveSavoir, CodeOgr: p.savoirOff}, "not_on_fiche", "codeOgr"},
		{"remove_contexte not on the fiche", dev, nil, op{Op: refclient.OpRemoveContexte, CodeOgr: p.contexteOff}, "not_on_fiche", "codeOgr"},
		{"set_coeur_metier not on the fiche", dev, nil, op{Op: refclient.OpSetCoeurMetier, CodeOgr: p.compOff, CoeurMetier: str("PRINCIPALE")}, "not_on_fiche", "codeOgr"},
		{"set_coeur_metier of a compétence removed earlier", dev, []op{{Op: refclient.OpRemoveCompetence, CodeOgr: devSkill}},
			op{Op: refclient.OpSetCoeurMetier, CodeOgr: devSkill}, "not_on_fiche", "codeOgr"},
		{"update_appellation of another fiche", dev, nil, op{Op: refclient.OpUpdateAppellation, CodeOgr: appliSynonym, Libelle: "X"}, "appellation_not_on_fiche", "codeOgr"},
		{"remove_appellation of another fiche", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: appliSynonym, Reason: "x"}, "appellation_not_on_fiche", "codeOgr"},
		{"move_appellation of another fiche", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: appliSynonym, ToCodeRome: "M1855"}, "appellation_not_on_fiche", "codeOgr"},
		{"remove_appellation moved away earlier", dev, []op{{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym, ToCodeRome: appli}},
			op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, Reason: "x"}, "appellation_not_on_fiche", "codeOgr"},
		{"remove_mobilite not on the fiche", dev, nil, op{Op: refclient.OpRemoveMobilite, ToCodeRome: appli}, "not_on_fiche", "toCodeRome"},
		{"remove_mobilite removed earlier", dev, []op{{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1810"}},
			op{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1810"}, "not_on_fiche", "toCodeRome"},

		// Already on the fiche.
		{"add_competence already on the fiche", dev, nil, op{Op: refclient.OpAddCompetence, CodeOgr: devSkill}, "already_on_fiche", "codeOgr"},
		{"add_competence added earlier", dev, []op{{Op: refclient.OpAddCompetence, CodeOgr: p.compOff}},
			op{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str("PRINCIPALE")}, "already_on_fiche", "codeOgr"},
		{"add_savoir already on the fiche", dev, nil, op{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOn}, "already_on_fiche", "codeOgr"},
		{"add_contexte already on the fiche", dev, nil, op{Op: refclient.OpAddContexte, CodeOgr: p.contexteOn}, "already_on_fiche", "codeOgr"},
		{"add_mobilite already on the fiche", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: "M1810"}, "already_on_fiche", "toCodeRome"},

		// Duplicate appellation labels.
		{"add_appellation with the label of an appellation of the fiche", dev, nil, addApp(devLabel), "duplicate_appellation", "libelle"},
		{"add_appellation in the other-gender order", dev, nil, addApp("Développeuse / Développeur informatique"), "duplicate_appellation", "libelle"},
		{"add_appellation in full form", dev, nil, addApp("Développeur informatique / Développeuse informatique"), "duplicate_appellation", "libelle"},
		{"add_appellation with the label of another fiche's appellation", dev, nil, addApp("développeur / développeuse WEB"), "duplicate_appellation", "libelle"},
		{"add_appellation twice in one run", dev, []op{addApp("Développeur / Développeuse Go")}, addApp("Développeuse / Développeur Go"), "duplicate_appellation", "libelle"},
		{"add_appellation with a label an earlier rename gave", dev,
			[]op{{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: "Développeur / Développeuse Go"}},
			addApp("Développeuse / Développeur Go"), "duplicate_appellation", "libelle"},
		{"add_appellation without a label", dev, nil, addApp("   "), "field_required", "libelle"},
		{"add_appellation with no letter", dev, nil, addApp(" - / - "), "invalid_value", "libelle"},
		{"update_appellation to another appellation's label", dev, nil,
			op{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: "Développeuse / Développeur web"}, "duplicate_appellation", "libelle"},
		{"update_appellation without labels", dev, nil, op{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: " ", LibelleCourt: " "}, "field_required", "libelle"},
		{"create_fiche with a taken label", "", nil, withPrincipal(changeset.AppellationPrincipale{Libelle: "Développeuse / Développeur web"}),
			"duplicate_appellation", "appellationPrincipale.libelle"},

		// Principal appellations.
		{"remove_appellation of the principal", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devPrincipal, Reason: "x"}, "principal_appellation", "codeOgr"},
		{"move_appellation of the principal", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: devPrincipal, ToCodeRome: appli}, "principal_appellation", "codeOgr"},
		{"create_fiche from another fiche's principal", "", nil, withPrincipal(changeset.AppellationPrincipale{CodeOgr: webPrincipal}),
			"principal_appellation", "appellationPrincipale.codeOgr"},

		// remove_appellation successors.
		{"remove_appellation without successor nor reason", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym}, "field_required", "reason"},
		{"remove_appellation with a blank reason", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, Reason: "  "}, "field_required", "reason"},
		{"remove_appellation replaced by itself", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, ReplacedBy: devSynonym}, "invalid_successor", "replacedBy"},
		{"remove_appellation replaced by an unknown one", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, ReplacedBy: "99999999"}, "unknown_appellation", "replacedBy"},

		// move_appellation targets.
		{"move_appellation without target", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym}, "field_required", "toCodeRome"},
		{"move_appellation to its own fiche", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym, ToCodeRome: dev}, "same_fiche", "toCodeRome"},
		{"move_appellation to an unknown fiche", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym, ToCodeRome: "Z9999"}, "unknown_fiche", "toCodeRome"},

		// Coeur métier.
		{"add_competence with an invalid coeurMetier", dev, nil, op{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str("Principale")}, "invalid_value", "coeurMetier"},
		{"add_savoir with an invalid coeurMetier", dev, nil, op{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOff, CoeurMetier: str("MAJEURE")}, "invalid_value", "coeurMetier"},
		{"set_coeur_metier with an invalid value", dev, nil, op{Op: refclient.OpSetCoeurMetier, CodeOgr: devSkill, CoeurMetier: str("")}, "invalid_value", "coeurMetier"},
		{"new compétence with an invalid coeurMetier", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "X", MacroCompetenceCodeOgr: p.macro}, CoeurMetier: str("emergente")}, "invalid_value", "coeurMetier"},

		// New items.
		{"new compétence under a compétence", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "X", MacroCompetenceCodeOgr: p.compOff}}, "unknown_macro_competence", "new.macroCompetenceCodeOgr"},
		{"new compétence under no macro", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "X"}}, "unknown_macro_competence", "new.macroCompetenceCodeOgr"},
		{"new compétence under a savoir-être", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "X", MacroCompetenceCodeOgr: p.savoirEtreMacro}}, "invalid_macro_competence", "new.macroCompetenceCodeOgr"},
		{"new compétence without label", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: " ", MacroCompetenceCodeOgr: p.macro}}, "field_required", "new.libelle"},
		{"add_competence with both codeOgr and new", dev, nil,
			op{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, New: &changeset.NewItem{Libelle: "X", MacroCompetenceCodeOgr: p.macro}}, "ambiguous_item", "new"},
		{"new savoir with an unknown category", dev, nil,
			op{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "X", Categorie: "Savoirs divers"}}, "invalid_value", "new.categorie"},
		{"new savoir without label", dev, nil,
			op{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Categorie: "Techniques professionnelles"}}, "field_required", "new.libelle"},
		{"add_savoir with both codeOgr and new", dev, nil,
			op{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOff, New: &changeset.NewItem{Libelle: "X", Categorie: "Techniques professionnelles"}}, "ambiguous_item", "new"},

		// Mobilités.
		{"add_mobilite at rank 0", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(0)}, "invalid_value", "rank"},
		{"add_mobilite past the end", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(len(devTargets) + 2)}, "invalid_value", "rank"},
		{"add_mobilite to itself", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: dev}, "same_fiche", "toCodeRome"},
		{"add_mobilite to an unknown fiche", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: "Z9999"}, "unknown_fiche", "toCodeRome"},
		{"add_mobilite without target", dev, nil, op{Op: refclient.OpAddMobilite}, "field_required", "toCodeRome"},

		// Texts and tags.
		{"set_text of an unknown field", dev, nil, op{Op: refclient.OpSetText, Field: "titre", Text: "x"}, "invalid_field", "field"},
		{"set_text without text", dev, nil, op{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: " \n "}, "field_required", "text"},
		{"set_tags with nothing", dev, nil, op{Op: refclient.OpSetTags}, "field_required", "transitionEcologique"},
		{"set_tags with an unknown transition", dev, nil, op{Op: refclient.OpSetTags, TransitionEcologique: str("Emploi Rose"), EmploiCadre: flag(false)}, "invalid_value", "transitionEcologique"},

		// create_fiche.
		{"create_fiche with an unknown domaine", "", nil, without(func(o *op) { o.DomaineProfessionnel = "M99" }), "unknown_domaine_professionnel", "domaineProfessionnel"},
		{"create_fiche named unlike its principal appellation", "", nil, without(func(o *op) { o.Libelle = "Autre métier" }), "libelle_mismatch", "libelle"},
		{"create_fiche without definition", "", nil, without(func(o *op) { o.Definition = " "; o.AccesEmploi = "" }), "field_required", "definition"},
		{"create_fiche without principal appellation", "", nil, without(func(o *op) { o.AppellationPrincipale = nil }), "field_required", "appellationPrincipale"},
		{"create_fiche with two principal appellations", "", nil,
			withPrincipal(changeset.AppellationPrincipale{CodeOgr: devSynonym, Libelle: robotLabel}), "field_required", "appellationPrincipale"},
		{"create_fiche from an unknown appellation", "", nil, withPrincipal(changeset.AppellationPrincipale{CodeOgr: "99999999"}),
			"unknown_appellation", "appellationPrincipale.codeOgr"},
		{"a second create_fiche", "", []op{newFiche(changeset.AppellationPrincipale{Libelle: robotLabel})},
			newFiche(changeset.AppellationPrincipale{Libelle: "Roboticien / Roboticienne industriel"}), "fiche_exists", "op"},
		{"create_fiche on an existing fiche", dev, nil, newFiche(changeset.AppellationPrincipale{Libelle: robotLabel}), "fiche_exists", "op"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			full := runOn(t, romedata.V460(t), c.code, append(slices.Clone(c.before), c.op)...)
			prefix := runOn(t, romedata.V460(t), c.code, c.before...)
			for i, res := range full.results[:len(c.before)] {
				if !res.Applies {
					t.Fatalf("earlier operation %d does not apply: %s %s", i+1, res.Code, res.Reason)
				}
			}
			res := full.results[len(c.before)]
			if res.Applies || res.Code != c.wantCode || res.Field != c.wantField {
				t.Fatalf("applies=%v code=%q field=%q (%s), want %q on %q", res.Applies, res.Code, res.Field, res.Reason, c.wantCode, c.wantField)
			}
			if res.Reason == "" || len(res.Changes) != 0 || res.Changes == nil {
				t.Errorf("reason %q, changes %v", res.Reason, res.Changes)
			}
			if got, want := full.tx.Changes(), prefix.tx.Changes(); !reflect.DeepEqual(got, want) {
				t.Errorf("the refused operation staged rows: %d row changes, %d without it", len(got), len(want))
			}
			equal(t, "codes OGR handed out", full.issued, prefix.issued)
			equal(t, "fiche", full.code, prefix.code)
		})
	}
}

// Labels close to official ones but naming another job are not duplicates.
func TestNearDuplicatesApply(t *testing.T) {
	for _, label := range []string{
		"Développeur / Développeuse",                     // the alternatives without their shared words
		"Développeur / Développeuse informatique junior", // one more word
		"Développeur informatique",                       // one alternative
	} {
		t.Run(label, func(t *testing.T) {
			applied(t, dev, changeset.Operation{Op: refclient.OpAddAppellation, Libelle: label})
		})
	}
}

// A refused operation does not stop the run: a dry run reports on every operation.
func TestRunReportsEveryOperation(t *testing.T) {
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
		"op-3 create_fiche true ",
		"op-4 add_competence false unknown_competence",
		"op-5 add_competence true ",
	})
	equal(t, "fiche", r.code, p.freeM18)
	r.publish(t)
}

// New codes OGR come from NextOGR, in order, and never name an official item.
func TestNewCodesOGR(t *testing.T) {
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

// --- referential rules ----------------------------------------------------------------

// ogrSpaces are the datasets whose codes OGR share one id space (as the importer has it).
var ogrSpaces = []struct{ dataset, col string }{
	{romecsv.Fiche, "code_ogr"}, {romecsv.Appellation, "code_ogr"}, {romecsv.Competence, "code_ogr"},
	{romecsv.Savoir, "code_ogr_savoir"}, {romecsv.Contexte, "code_ogr"},
}

// scope is the part of a snapshot a change set touched: the rules are checked there
// only, which keeps a check to milliseconds. A nil scope is the whole snapshot.
type scope struct {
	fiches map[string]bool // codes ROME
	items  map[string]bool // codes OGR of appellations, compétences, savoirs, contextes
}

func scopeOf(changes []refdata.Change) *scope {
	sc := &scope{fiches: map[string]bool{}, items: map[string]bool{}}
	for _, c := range changes {
		ds := romecsv.MustByName(c.Dataset)
		for _, cols := range [][]string{c.Old, c.New} {
			if cols == nil {
				continue
			}
			if code := ds.CodeRome(cols); code != "" {
				sc.fiches[code] = true
			}
			switch c.Dataset {
			case romecsv.Appellation, romecsv.Competence, romecsv.Contexte, romecsv.Item, romecsv.Lien, romecsv.Coherence:
				sc.items[col(c.Dataset, cols, "code_ogr")] = true
			case romecsv.Savoir:
				sc.items[col(c.Dataset, cols, "code_ogr_savoir")] = true
			case romecsv.Arborescence:
				if ogr := col(c.Dataset, cols, "ogr_appellation"); ogr != "" {
					sc.items[ogr] = true
				} else if n := col(c.Dataset, cols, "numero_fiche_rome"); n != "" {
					sc.fiches[col(c.Dataset, cols, "code_grand_domaine")+col(c.Dataset, cols, "code_domaine_professionnel")+n] = true
				}
			}
		}
	}
	return sc
}

// wholeScope is every fiche and item of s, and every fiche its rows name.
func wholeScope(s *refdata.Snapshot) *scope {
	sc := &scope{fiches: map[string]bool{}, items: map[string]bool{}}
	for _, ds := range romecsv.Datasets {
		for _, r := range s.T(ds.Name).Rows() {
			if code := ds.CodeRome(r.Cols); code != "" {
				sc.fiches[code] = true
			}
		}
	}
	for _, sp := range ogrSpaces[1:] {
		for _, r := range s.T(sp.dataset).Rows() {
			sc.items[col(sp.dataset, r.Cols, sp.col)] = true
		}
	}
	for _, r := range s.T(romecsv.Item).Rows() {
		sc.items[col(romecsv.Item, r.Cols, "code_ogr")] = true
	}
	for _, r := range s.T(romecsv.Arborescence).Rows() {
		if ogr := col(romecsv.Arborescence, r.Cols, "ogr_appellation"); ogr != "" {
			sc.items[ogr] = true
		}
	}
	return sc
}

// referentialProblems checks, over the scope, the rules the official export keeps and
// the importer's integrity check relies on: every lien resolves to an item of the right
// kind, every coherence row has its lien and the other way round, one PRINCIPALE
// appellation per fiche that carries the fiche label, every copy of the label agrees,
// appellation arborescence rows point at the fiche of the appellation, mobilités and
// sentences are numbered 1..n, every item has its unix_item row, codes OGR are unique.
func referentialProblems(s *refdata.Snapshot, sc *scope) []string {
	if sc == nil {
		sc = wholeScope(s)
	}
	var out []string
	bad := func(format string, args ...any) {
		if len(out) < 20 {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	for _, code := range slices.Sorted(maps.Keys(sc.fiches)) {
		if f, ok := s.Get(romecsv.Fiche, code); ok {
			ficheProblems(s, f, bad)
			continue
		}
		for _, ds := range romecsv.Datasets {
			if ds.RomeCol != "" && len(s.ForRome(ds.Name, code)) > 0 {
				bad("%s has rows of fiche %s, which does not exist", ds.Name, code)
			}
		}
	}
	for _, ogr := range slices.Sorted(maps.Keys(sc.items)) {
		itemProblems(s, ogr, bad)
	}
	if len(sc.fiches) > 0 {
		// A fiche's code OGR is in the same space as the items'.
		for code := range sc.fiches {
			if f, ok := s.Get(romecsv.Fiche, code); ok {
				ogr := col(romecsv.Fiche, f, "code_ogr")
				for _, sp := range ogrSpaces[1:] {
					if _, taken := s.Get(sp.dataset, ogr); taken {
						bad("fiche %s: code OGR %s is also in %s", code, ogr, sp.dataset)
					}
				}
			}
		}
	}
	return out
}

func ficheProblems(s *refdata.Snapshot, f []string, bad func(string, ...any)) {
	const F, A, AR, L, H, C = romecsv.Fiche, romecsv.Appellation, romecsv.Arborescence, romecsv.Lien, romecsv.Coherence, romecsv.Competence
	code, label, ogr := col(F, f, "code_rome"), col(F, f, "libelle_rome"), col(F, f, "code_ogr")
	var principal []string
	for _, a := range s.ForRome(A, code) {
		app, long, short := col(A, a, "code_ogr"), col(A, a, "libelle_appellation_long"), col(A, a, "libelle_appellation_court")
		if col(A, a, "classification") == "PRINCIPALE" {
			principal = append(principal, long)
		}
		if _, ok := s.Get(L, key(code, "2", "", app)); !ok {
			bad("appellation %s: no lien on fiche %s", app, code)
		}
		arbo, ok := s.Get(AR, key("4", "", "", "", app))
		switch {
		case !ok:
			bad("appellation %s: no arborescence row", app)
		case col(AR, arbo, "ogr_rome") != ogr || col(AR, arbo, "code_fiche") != col(F, f, "code_fiche_metier"):
			bad("appellation %s on %s: arborescence row names fiche %s/%s", app, code, col(AR, arbo, "ogr_rome"), col(AR, arbo, "code_fiche"))
		case col(AR, arbo, "libelle_appellation_long") != long || col(AR, arbo, "libelle_appellation_court") != short:
			bad("appellation %s: arborescence labels %q / %q", app, col(AR, arbo, "libelle_appellation_long"), col(AR, arbo, "libelle_appellation_court"))
		}
	}
	switch {
	case len(principal) != 1:
		bad("fiche %s has %d PRINCIPALE appellations", code, len(principal))
	case principal[0] != label:
		bad("fiche %s is %q but its principal appellation is %q", code, label, principal[0])
	}
	d, ok := s.Get(romecsv.FicheDomaine, code)
	if !ok || col(romecsv.FicheDomaine, d, "libelle_rome") != label || col(romecsv.FicheDomaine, d, "code_grand_domaine") != code[:1] ||
		col(romecsv.FicheDomaine, d, "code_domaine_professionel") != code[:3] {
		bad("fiche %s: cr_gd_dp row %v", code, d)
	}
	arbo, ok := s.Get(AR, key("3", code[:1], code[1:3], code[3:], ""))
	if !ok || col(AR, arbo, "intitule") != label || col(AR, arbo, "ogr_rome") != ogr || col(AR, arbo, "code_fiche") != col(F, f, "code_fiche_metier") {
		bad("fiche %s: arborescence row %v", code, arbo)
	}
	for _, name := range []string{romecsv.FicheSecteurActivite, romecsv.FicheSecteurNaf, romecsv.FicheCentreInteret, romecsv.FicheTheme} {
		for _, r := range s.ForRome(name, code) {
			if col(name, r, "libelle_rome") != label || col(name, r, "code_ogr_rome") != ogr {
				bad("fiche %s: %s row names %q (%s)", code, name, col(name, r, "libelle_rome"), col(name, r, "code_ogr_rome"))
			}
		}
	}
	var ranks []int
	for _, m := range s.ForRome(romecsv.Mobilite, code) {
		n, _ := strconv.Atoi(col(romecsv.Mobilite, m, "numero_ordre"))
		ranks = append(ranks, n)
		if target := col(romecsv.Mobilite, m, "code_rome_cible"); target == code {
			bad("fiche %s has a mobilité to itself", code)
		} else if _, ok := s.Get(F, target); !ok {
			bad("fiche %s: mobilité to unknown fiche %s", code, target)
		}
	}
	if !numbered(ranks) {
		bad("fiche %s: mobilités ranked %v", code, ranks)
	}
	positions := map[string][]int{}
	for _, r := range s.ForRome(romecsv.Texte, code) {
		n, _ := strconv.Atoi(col(romecsv.Texte, r, "position_phrase"))
		t := col(romecsv.Texte, r, "libelle_type_texte")
		positions[t] = append(positions[t], n)
	}
	for t, p := range positions {
		if !numbered(p) {
			bad("fiche %s: %s sentences at %v", code, t, p)
		}
	}
	if _, ok := s.Get(L, key(code, "1", "", ogr)); !ok {
		bad("fiche %s: no bloc 1 lien", code)
	}
	for _, l := range s.ForRome(L, code) {
		bloc, rub, item := col(L, l, "code_compo_bloc"), col(L, l, "code_rubrique"), col(L, l, "code_ogr")
		switch bloc + "/" + rub {
		case "1/":
			if item != ogr {
				bad("fiche %s: bloc 1 lien names %s", code, item)
			}
		case "2/":
			if a, ok := s.Get(A, item); !ok || col(A, a, "code_rome") != code {
				bad("fiche %s: lien to appellation %s which is not on it", code, item)
			}
		case "5/1", "5/2":
			if c, ok := s.Get(C, item); !ok || (col(C, c, "cat_comp") == "Savoir-être professionnel") != (rub == "2") {
				bad("fiche %s: lien 5/%s to compétence %s (%v)", code, rub, item, c)
			}
		case "5/3":
			if _, ok := s.Get(romecsv.Savoir, item); !ok {
				bad("fiche %s: lien to unknown savoir %s", code, item)
			}
		case "6/":
			if _, ok := s.Get(romecsv.Contexte, item); !ok {
				bad("fiche %s: lien to unknown contexte %s", code, item)
			}
		default:
			bad("fiche %s: lien in bloc %s rubrique %q", code, bloc, rub)
		}
		if _, ok := s.Get(H, key(code, item)); (bloc == "5" || bloc == "6") && !ok {
			bad("fiche %s: item %s has no coherence row", code, item)
		}
	}
	for _, h := range s.ForRome(H, code) {
		item, linked := col(H, h, "code_ogr"), 0
		for _, place := range [][2]string{{"5", "1"}, {"5", "2"}, {"5", "3"}, {"6", ""}} {
			if _, ok := s.Get(L, key(code, place[0], place[1], item)); ok {
				linked++
			}
		}
		if linked != 1 {
			bad("coherence row of %s on %s has %d liens", item, code, linked)
		}
		if v := col(H, h, "coeur_metier"); v != "" && v != "Principale" && v != "Émergente" {
			bad("coherence row of %s on %s: coeur_metier %q", item, code, v)
		}
	}
}

// itemProblems checks one code OGR: in one id space at most, with the unix_item row
// of its kind, a compétence under a macro-compétence, no arborescence row without its
// appellation.
func itemProblems(s *refdata.Snapshot, ogr string, bad func(string, ...any)) {
	const C = romecsv.Competence
	var spaces []string
	for _, sp := range ogrSpaces[1:] {
		if _, ok := s.Get(sp.dataset, ogr); ok {
			spaces = append(spaces, sp.dataset)
		}
	}
	if len(spaces) > 1 {
		bad("code OGR %s is in %v", ogr, spaces)
	}
	rubrique, isItem := "", true
	switch {
	case slices.Contains(spaces, C):
		c, _ := s.Get(C, ogr)
		rubrique = "1"
		if col(C, c, "cat_comp") == "Savoir-être professionnel" {
			rubrique = "2"
		}
		if col(C, c, "nature") == "Compétence" {
			if m, ok := s.Get(C, col(C, c, "code_ogr_macro_comp")); !ok || col(C, m, "nature") != "Macro-compétence" {
				bad("compétence %s: macro-compétence %q", ogr, col(C, c, "code_ogr_macro_comp"))
			}
		}
	case slices.Contains(spaces, romecsv.Savoir):
		rubrique = "3"
	case slices.Contains(spaces, romecsv.Contexte):
	default:
		isItem = false
	}
	it, hasItem := s.Get(romecsv.Item, ogr)
	switch {
	case isItem && (!hasItem || col(romecsv.Item, it, "code_rubrique") != rubrique):
		bad("item %s: unix_item row %v, want rubrique %q", ogr, it, rubrique)
	case !isItem && hasItem:
		bad("unix_item row %s names no compétence, savoir or contexte", ogr)
	}
	if _, ok := s.Get(romecsv.Arborescence, key("4", "", "", "", ogr)); ok && !slices.Contains(spaces, romecsv.Appellation) {
		bad("arborescence row of unknown appellation %s", ogr)
	}
}

// numbered tells whether ns is a permutation of 1..len(ns).
func numbered(ns []int) bool {
	s := slices.Sorted(slices.Values(ns))
	for i, n := range s {
		if n != i+1 {
			return false
		}
	}
	return true
}

// importErr exports a snapshot as a RefRomeCsv folder and reads it back with the
// importer, which runs its integrity checks. It returns the imported snapshot.
func importErr(t *testing.T, s *refdata.Snapshot) (*refdata.Snapshot, error) {
	t.Helper()
	dir := t.TempDir()
	const n = 61
	info := romecsv.VersionInfo{Number: n, Label: "changeset test", PublishedAt: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}
	if err := os.WriteFile(filepath.Join(dir, "version.txt"), romecsv.FormatVersion(info), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ds := range romecsv.Datasets {
		f, err := os.Create(filepath.Join(dir, ds.FileName(n)))
		if err != nil {
			t.Fatal(err)
		}
		w, err := romecsv.NewWriter(f, ds)
		for _, r := range s.T(ds.Name).Rows() {
			if err == nil {
				err = w.Write(r.Cols)
			}
		}
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	rel, err := importer.Read(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return rel.Snapshot, nil
}

func TestOfficialDataKeepsTheRules(t *testing.T) {
	for _, p := range referentialProblems(romedata.V460(t), nil) {
		t.Error(p)
	}
}

// The rule checks find broken rows: they would not catch an engine bug otherwise.
func TestRuleChecksCatchBrokenRows(t *testing.T) {
	base := romedata.V460(t)
	const A, L, H = romecsv.Appellation, romecsv.Lien, romecsv.Coherence
	cases := []struct {
		name    string
		corrupt func(tx *refdata.Tx)
	}{
		{"lien without coherence", func(tx *refdata.Tx) { tx.Delete(H, key(dev, devSkill)) }},
		{"coherence without lien", func(tx *refdata.Tx) { tx.Delete(L, key(dev, "5", "1", devSkill)) }},
		{"second principal appellation", func(tx *refdata.Tx) {
			r, _ := tx.Get(A, devSynonym)
			r = slices.Clone(r)
			r[romecsv.MustByName(A).Col("classification")] = "PRINCIPALE"
			tx.Put(A, r)
		}},
		{"fiche label out of step", func(tx *refdata.Tx) {
			r, _ := tx.Get(romecsv.Fiche, dev)
			r = slices.Clone(r)
			r[romecsv.MustByName(romecsv.Fiche).Col("libelle_rome")] = "Développeur / Développeuse"
			tx.Put(romecsv.Fiche, r)
		}},
		{"appellation moved without its arborescence row", func(tx *refdata.Tx) {
			r, _ := tx.Get(A, devSynonym)
			r = slices.Clone(r)
			r[romecsv.MustByName(A).Col("code_rome")] = appli
			tx.Put(A, r)
			tx.Delete(L, key(dev, "2", "", devSynonym))
			tx.Put(L, []string{appli, "2", "", devSynonym})
		}},
		{"mobilité ranks with a gap", func(tx *refdata.Tx) { tx.Delete(romecsv.Mobilite, key(dev, "M1810")) }},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := base.Begin()
			c.corrupt(tx)
			next, err := base.Apply(refdata.Version{Number: 61}, tx.Changes())
			if err != nil {
				t.Fatal(err)
			}
			if len(referentialProblems(next, scopeOf(tx.Changes()))) == 0 {
				t.Error("no problem found in the rows the change touched")
			}
			if i == 0 && len(referentialProblems(next, nil)) == 0 {
				t.Error("no problem found in the whole snapshot")
			}
		})
	}
	t.Run("the importer refuses a coherence row without lien", func(t *testing.T) {
		tx := base.Begin()
		tx.Delete(L, key(dev, "5", "1", devSkill))
		next, err := base.Apply(refdata.Version{Number: 61}, tx.Changes())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := importErr(t, next); err == nil || !strings.Contains(err.Error(), "not linked") {
			t.Errorf("import error %v", err)
		}
	})
}

// Two change sets that use every kind of operation, published one after the other,
// give a referential the importer reads back row for row.
func TestPublishedRowsPassTheImporter(t *testing.T) {
	p := pick(t)
	modify := applied(t, dev,
		changeset.Operation{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Go", LibelleCourt: "Développeur(se) Go"},
		changeset.Operation{Op: refclient.OpUpdateAppellation, CodeOgr: devPrincipal, Libelle: "Développeur / Développeuse d'applications \"métier\""},
		changeset.Operation{Op: refclient.OpUpdateAppellation, CodeOgr: devSynShort, LibelleCourt: "Analyste-prog. gestion"},
		changeset.Operation{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, ReplacedBy: devPrincipal},
		changeset.Operation{Op: refclient.OpMoveAppellation, CodeOgr: "10964", ToCodeRome: appli},
		changeset.Operation{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)},
		changeset.Operation{Op: refclient.OpAddCompetence, CodeOgr: p.savoirEtreOff},
		changeset.Operation{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "Développer en Go", MacroCompetenceCodeOgr: p.macro}},
		changeset.Operation{Op: refclient.OpRemoveCompetence, CodeOgr: devSkill},
		changeset.Operation{Op: refclient.OpSetCoeurMetier, CodeOgr: p.savoirOn, CoeurMetier: str(fiche.CoeurEmergente)},
		changeset.Operation{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOff},
		changeset.Operation{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "Langage Go", Categorie: "Techniques professionnelles"}},
		changeset.Operation{Op: refclient.OpAddContexte, CodeOgr: p.contexteOff},
		changeset.Operation{Op: refclient.OpRemoveContexte, CodeOgr: p.contexteOn},
		changeset.Operation{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(2)},
		changeset.Operation{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1810"},
		changeset.Operation{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: "Conçoit l'application.\nLa « teste »."},
		changeset.Operation{Op: refclient.OpSetTags, TransitionEcologique: str("Emploi Vert"), EmploiCadre: flag(false)},
	)
	v61 := modify.publish(t)
	create := runFrom(t, v61, firstOGR+len(modify.issued), "",
		newFiche(changeset.AppellationPrincipale{CodeOgr: devSynShort}),
		changeset.Operation{Op: refclient.OpAddCompetence, CodeOgr: p.compOff},
		changeset.Operation{Op: refclient.OpAddMobilite, ToCodeRome: dev},
	)
	for _, res := range create.results {
		if !res.Applies {
			t.Fatalf("%s: %s %s", res.OperationID, res.Code, res.Reason)
		}
	}
	v62 := create.publish(t)
	for _, p := range referentialProblems(v62, nil) {
		t.Error(p)
	}
	imported, err := importErr(t, v62)
	if err != nil {
		t.Fatal(err)
	}
	if d := refdata.Diff(v62, imported); len(d) != 0 {
		t.Errorf("%d rows differ after the round trip, first %s %q", len(d), d[0].Dataset, d[0].Key)
	}
}
