package ui

import (
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

func TestDiffFiches(t *testing.T) {
	before, after := testFiche(60), testFiche(61)
	after.Tags.EmploiReglemente = ptr(true)
	after.Mobilites = []backend.Mobilite{{CodeRome: "M1802", Libelle: "Expertise et support en systèmes d'information", Rang: 3}}
	after.Savoirs[0].Savoirs[0].Libelle = "HTML 5"
	d := diffFiches(before, after)

	sections := map[string]ficheDiffSection{}
	for _, s := range d.Sections {
		sections[s.ID] = s
	}
	if d.Empty() {
		t.Fatal("no difference found")
	}
	want := func(id string, added, removed, changed int) ficheDiffSection {
		t.Helper()
		s := sections[id]
		if len(s.Added) != added || len(s.Removed) != removed || len(s.Changed) != changed {
			t.Errorf("%s: %d added, %d removed, %d changed; want %d, %d, %d: %+v", id, len(s.Added), len(s.Removed), len(s.Changed), added, removed, changed, s)
		}
		return s
	}
	want("fiche", 0, 0, 0)
	if s := want("textes", 0, 0, 1); len(s.Changed) == 1 && (s.Changed[0].Libelle != "Définition" || !strings.HasPrefix(s.Changed[0].After, "Conçoit, développe")) {
		t.Errorf("textes: %+v", s.Changed)
	}
	if s := want("indicateurs", 0, 0, 1); len(s.Changed) == 1 && (s.Changed[0].Libelle != "Emploi réglementé" || s.Changed[0].Before != "Non renseigné" || s.Changed[0].After != "Oui") {
		t.Errorf("indicateurs: %+v", s.Changed)
	}
	if s := want("appellations", 1, 0, 0); len(s.Added) == 1 && (s.Added[0].Code != "900001" || s.Added[0].Detail != "Synonyme") {
		t.Errorf("appellations: %+v", s.Added)
	}
	if s := want("competences", 0, 1, 1); len(s.Removed) == 1 && len(s.Changed) == 1 {
		if s.Removed[0].Code != "120002" || s.Removed[0].Detail != "Savoir-faire · Concevoir une application" {
			t.Errorf("removed compétence: %+v", s.Removed[0])
		}
		if c := s.Changed[0]; c.Code != "120001" || c.Field != "cœur de métier" || c.Before != "Principale" || c.After != "Émergente" {
			t.Errorf("changed compétence: %+v", c)
		}
	}
	if s := want("savoirs", 0, 0, 1); len(s.Changed) == 1 && (s.Changed[0].Field != "libellé" || s.Changed[0].After != "HTML 5") {
		t.Errorf("savoirs: %+v", s.Changed)
	}
	want("contextes", 0, 0, 0)
	if s := want("mobilites", 0, 1, 1); len(s.Removed) == 1 && len(s.Changed) == 1 && (s.Removed[0].Code != "M1806" || s.Changed[0].Before != "1" || s.Changed[0].After != "3") {
		t.Errorf("mobilités: %+v", s)
	}
	if got := len(d.Changed()); got != 6 {
		t.Errorf("%d sections changed, want 6", got)
	}

	// The same fiche: nothing. A fiche that did not exist: all of it is added.
	if d := diffFiches(testFiche(61), testFiche(61)); !d.Empty() {
		t.Errorf("same fiche: %+v", d.Changed())
	}
	d = diffFiches(nil, testFiche(60))
	for _, s := range d.Sections {
		if len(s.Removed) > 0 {
			t.Errorf("new fiche: %s has removals", s.ID)
		}
	}
	if n := len(sections); n != 8 {
		t.Errorf("%d sections, want 8", n)
	}
	for _, s := range d.Sections {
		if s.ID == "appellations" && len(s.Added) != 2 {
			t.Errorf("new fiche: %d appellations added, want 2", len(s.Added))
		}
	}
	if d := diffFiches(testFiche(60), nil); d.Empty() {
		t.Error("a fiche gone: no difference")
	}
}
