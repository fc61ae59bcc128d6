package ui

// What changed in a fiche between two versions: a pure function, for the comparison page.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

// ficheDiff is what changed in a fiche between two versions, section by section.
type ficheDiff struct {
	Sections []ficheDiffSection
}

// Empty tells whether the two versions of the fiche are the same.
func (d ficheDiff) Empty() bool {
	for _, s := range d.Sections {
		if !s.Empty() {
			return false
		}
	}
	return true
}

// Changed are the sections with a difference.
func (d ficheDiff) Changed() []ficheDiffSection {
	var out []ficheDiffSection
	for _, s := range d.Sections {
		if !s.Empty() {
			out = append(out, s)
		}
	}
	return out
}

type ficheDiffSection struct {
	ID, Title string
	Added     []ficheDiffEntry
	Removed   []ficheDiffEntry
	Changed   []ficheDiffChange
}

func (s ficheDiffSection) Empty() bool { return len(s.Added)+len(s.Removed)+len(s.Changed) == 0 }

// ficheDiffEntry is an element added or removed.
type ficheDiffEntry struct{ Code, Libelle, Detail string }

// ficheDiffChange is a value of an element that changed.
type ficheDiffChange struct{ Code, Libelle, Field, Before, After string }

// ficheDiffAttr is a compared value of an element.
type ficheDiffAttr struct{ Name, Value string }

// ficheDiffElem is an element of a section, compared by key.
type ficheDiffElem struct {
	Key, Libelle, Detail string
	Attrs                []ficheDiffAttr
}

// diffFicheKeyed compares two lists of elements by key: added (in after's order), removed (in
// before's order) and changed (in after's order, one line per value).
func diffFicheKeyed(before, after []ficheDiffElem) (added, removed []ficheDiffEntry, changed []ficheDiffChange) {
	old := make(map[string]ficheDiffElem, len(before))
	for _, e := range before {
		old[e.Key] = e
	}
	seen := make(map[string]bool, len(after))
	for _, e := range after {
		seen[e.Key] = true
		b, ok := old[e.Key]
		if !ok {
			added = append(added, ficheDiffEntry{Code: e.Key, Libelle: e.Libelle, Detail: e.Detail})
			continue
		}
		if b.Libelle != e.Libelle {
			changed = append(changed, ficheDiffChange{Code: e.Key, Libelle: e.Libelle, Field: "libellé", Before: b.Libelle, After: e.Libelle})
		}
		for _, a := range e.Attrs {
			prev := ""
			for _, ba := range b.Attrs {
				if ba.Name == a.Name {
					prev = ba.Value
				}
			}
			if prev != a.Value {
				changed = append(changed, ficheDiffChange{Code: e.Key, Libelle: e.Libelle, Field: a.Name, Before: orRaw(prev, "(aucun)"), After: orRaw(a.Value, "(aucun)")})
			}
		}
	}
	for _, e := range before {
		if !seen[e.Key] {
			removed = append(removed, ficheDiffEntry{Code: e.Key, Libelle: e.Libelle, Detail: e.Detail})
		}
	}
	return added, removed, changed
}

// diffFiches compares two versions of a fiche; before (or after) is nil when the fiche did
// not exist at that version.
func diffFiches(before, after *backend.Fiche) ficheDiff {
	if before == nil {
		before = &backend.Fiche{}
	}
	if after == nil {
		after = &backend.Fiche{}
	}
	keyed := func(id, title string, elems func(*backend.Fiche) []ficheDiffElem) ficheDiffSection {
		s := ficheDiffSection{ID: id, Title: title}
		s.Added, s.Removed, s.Changed = diffFicheKeyed(elems(before), elems(after))
		return s
	}
	return ficheDiff{Sections: []ficheDiffSection{
		keyed("fiche", "Libellé et domaines", diffFicheOwn),
		keyed("textes", "Textes", diffFicheTexts),
		keyed("indicateurs", "Indicateurs", diffFicheTags),
		keyed("appellations", "Appellations", diffFicheAppellations),
		keyed("competences", "Compétences", diffFicheCompetences),
		keyed("savoirs", "Savoirs", diffFicheSavoirs),
		keyed("contextes", "Contextes de travail", diffFicheContextes),
		keyed("mobilites", "Mobilités", diffFicheMobilites),
	}}
}

func refCodeLabel(r backend.Ref) string {
	if r.Code == "" {
		return ""
	}
	return r.Code + " – " + r.Libelle
}

// diffFicheOwn: the fiche's own values, each an element keyed by its name (so that a change
// is a "changed" line, never an addition).
func diffFicheOwn(f *backend.Fiche) []ficheDiffElem {
	if f.CodeRome == "" {
		return nil
	}
	return []ficheDiffElem{{Key: "fiche", Libelle: "Fiche " + f.CodeRome, Attrs: []ficheDiffAttr{
		{"libellé", f.Libelle},
		{"grand domaine", refCodeLabel(f.GrandDomaine)},
		{"domaine professionnel", refCodeLabel(f.DomaineProfessionnel)},
	}}}
}

func diffFicheTexts(f *backend.Fiche) []ficheDiffElem {
	if f.CodeRome == "" {
		return nil
	}
	return []ficheDiffElem{
		{Key: "definition", Libelle: "Définition", Attrs: []ficheDiffAttr{{"texte", strings.TrimSpace(f.Definition)}}},
		{Key: "accesEmploi", Libelle: "Accès à l'emploi", Attrs: []ficheDiffAttr{{"texte", strings.TrimSpace(f.AccesEmploi)}}},
	}
}

func diffFicheTags(f *backend.Fiche) []ficheDiffElem {
	if f.CodeRome == "" {
		return nil
	}
	var out []ficheDiffElem
	for _, t := range ficheTags(f.Tags) {
		out = append(out, ficheDiffElem{Key: t.Label, Libelle: t.Label, Attrs: []ficheDiffAttr{{"valeur", t.Value}}})
	}
	return out
}

func diffFicheAppellations(f *backend.Fiche) []ficheDiffElem {
	out := make([]ficheDiffElem, 0, len(f.Appellations))
	for _, a := range f.Appellations {
		peu := "courante"
		if a.PeuUsite {
			peu = "peu usitée"
		}
		out = append(out, ficheDiffElem{Key: a.CodeOgr, Libelle: a.Libelle, Detail: classificationText(a.Classification), Attrs: []ficheDiffAttr{
			{"libellé court", a.LibelleCourt}, {"classification", classificationText(a.Classification)}, {"usage", peu},
		}})
	}
	return out
}

func diffFicheCompetences(f *backend.Fiche) []ficheDiffElem {
	var out []ficheDiffElem
	add := func(ms []backend.MacroCompetence, kind string) {
		for _, m := range ms {
			if m.Linked {
				out = append(out, ficheDiffElem{Key: m.CodeOgr, Libelle: m.Libelle, Detail: kind + " · macro-compétence",
					Attrs: []ficheDiffAttr{{"cœur de métier", coeurText(m.CoeurMetier)}}})
			}
			for _, it := range m.Competences {
				out = append(out, ficheDiffElem{Key: it.CodeOgr, Libelle: it.Libelle, Detail: kind + " · " + m.Libelle,
					Attrs: []ficheDiffAttr{{"cœur de métier", coeurText(it.CoeurMetier)}, {"macro-compétence", m.Libelle}}})
			}
		}
	}
	add(f.Competences.SavoirFaire, "Savoir-faire")
	add(f.Competences.SavoirEtreProfessionnels, "Savoir-être professionnel")
	return out
}

func diffFicheSavoirs(f *backend.Fiche) []ficheDiffElem {
	var out []ficheDiffElem
	for _, c := range f.Savoirs {
		for _, it := range c.Savoirs {
			out = append(out, ficheDiffElem{Key: it.CodeOgr, Libelle: it.Libelle, Detail: c.Categorie,
				Attrs: []ficheDiffAttr{{"catégorie", c.Categorie}, {"cœur de métier", coeurText(it.CoeurMetier)}}})
		}
	}
	return out
}

func diffFicheContextes(f *backend.Fiche) []ficheDiffElem {
	var out []ficheDiffElem
	for _, t := range f.ContextesTravail {
		for _, it := range t.Contextes {
			out = append(out, ficheDiffElem{Key: it.CodeOgr, Libelle: it.Libelle, Detail: t.Libelle,
				Attrs: []ficheDiffAttr{{"type", t.Libelle}, {"cœur de métier", coeurText(it.CoeurMetier)}}})
		}
	}
	return out
}

func diffFicheMobilites(f *backend.Fiche) []ficheDiffElem {
	out := make([]ficheDiffElem, 0, len(f.Mobilites))
	for _, m := range f.Mobilites {
		out = append(out, ficheDiffElem{Key: m.CodeRome, Libelle: m.CodeRome + " – " + m.Libelle, Detail: fmt.Sprintf("rang %d", m.Rang),
			Attrs: []ficheDiffAttr{{"rang", strconv.Itoa(m.Rang)}}})
	}
	return out
}
