package ui

// The fiche a request modifies, in the request form: loading it, its elements as the
// selects' choices, and their counts.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// loadFormFiche reads the fiche being modified, for its elements' lists; the note says why
// there is none, missing that the referential has no such fiche.
func (h *handlers) loadFormFiche(ctx context.Context, f *requestForm) (fiche *backend.Fiche, note string, missing bool) {
	if f.creates() || !request.CodeRomePattern.MatchString(f.CodeRome) {
		return nil, "", false
	}
	fiche, err := h.Backend.Referential.Fiche(ctx, f.CodeRome, 0)
	if e, ok := backend.AsError(err); ok && e.Status == http.StatusNotFound {
		return nil, "Aucune fiche ne porte le code ROME " + f.CodeRome + " dans le référentiel : vérifiez-le, ou recherchez la fiche par son intitulé.", true
	}
	if err != nil {
		slog.WarnContext(ctx, "fiche not read for the request form", "code_rome", f.CodeRome, "error", err)
		return nil, "Le référentiel ne répond pas : les listes des éléments de la fiche ne sont pas disponibles. Saisissez les codes, ou réessayez dans un instant.", false
	}
	return fiche, "", false
}

// ficheOptions are a fiche's elements as a select's choices; a value that is not among
// them (typed before the fiche was loaded) stays, marked.
func ficheOptions(f *backend.Fiche, set, value string) []optGroup {
	var groups []optGroup
	items := func(label string, its []backend.Item) {
		g := optGroup{Label: label}
		for _, it := range its {
			g.Options = append(g.Options, formOption{it.CodeOgr, it.Libelle})
		}
		if len(g.Options) > 0 {
			groups = append(groups, g)
		}
	}
	switch set {
	case ficheOptAppellations, ficheOptSynonymes:
		g := optGroup{Label: "Appellations de la fiche " + f.CodeRome}
		for _, a := range f.Appellations {
			switch {
			case a.Classification == "PRINCIPALE" && set == ficheOptSynonymes:
			case a.Classification == "PRINCIPALE":
				g.Options = append(g.Options, formOption{a.CodeOgr, a.Libelle + " (appellation principale)"})
			default:
				g.Options = append(g.Options, formOption{a.CodeOgr, a.Libelle})
			}
		}
		groups = append(groups, g)
	case ficheOptCompetences, ficheOptCoeur:
		macros := func(ms []backend.MacroCompetence, suffix string) {
			for _, m := range ms {
				g := optGroup{Label: m.Libelle + suffix}
				if set == ficheOptCoeur && m.Linked {
					g.Options = append(g.Options, formOption{m.CodeOgr, m.Libelle + " (la macro-compétence)"})
				}
				for _, it := range m.Competences {
					g.Options = append(g.Options, formOption{it.CodeOgr, it.Libelle})
				}
				if len(g.Options) > 0 {
					groups = append(groups, g)
				}
			}
		}
		macros(f.Competences.SavoirFaire, "")
		macros(f.Competences.SavoirEtreProfessionnels, " (savoir-être)")
	case ficheOptSavoirs:
		for _, s := range f.Savoirs {
			items(s.Categorie, savoirItems(s.Savoirs))
		}
	case ficheOptContextes:
		for _, t := range f.ContextesTravail {
			items(t.Libelle, t.Contextes)
		}
	case ficheOptMobilites:
		g := optGroup{Label: "Mobilités de la fiche " + f.CodeRome}
		for _, m := range f.Mobilites {
			g.Options = append(g.Options, formOption{m.CodeRome, fmt.Sprintf("%s – %s (rang %d)", m.CodeRome, m.Libelle, m.Rang)})
		}
		groups = append(groups, g)
	}
	if value != "" && !slices.ContainsFunc(groups, func(g optGroup) bool {
		return slices.ContainsFunc(g.Options, func(o formOption) bool { return o.Value == value })
	}) {
		groups = append(groups, optGroup{Label: "Valeur saisie", Options: []formOption{{value, value + " (absent de la fiche)"}}})
	}
	return groups
}

// ficheCounts sums up a fiche's elements.
func ficheCounts(f *backend.Fiche) string {
	comp := 0
	for _, m := range append(append([]backend.MacroCompetence{}, f.Competences.SavoirFaire...), f.Competences.SavoirEtreProfessionnels...) {
		comp += len(m.Competences)
	}
	sav, ctx := 0, 0
	for _, s := range f.Savoirs {
		sav += len(s.Savoirs)
	}
	for _, t := range f.ContextesTravail {
		ctx += len(t.Contextes)
	}
	return fmt.Sprintf("%s, %s, %s, %s, %s", reqCount(len(f.Appellations), "appellation"), reqCount(comp, "compétence"),
		reqCount(sav, "savoir"), reqCount(ctx, "contexte de travail"), reqCount(len(f.Mobilites), "mobilité"))
}

func reqCount(n int, noun string) string {
	if n > 1 {
		if i := strings.Index(noun, " "); i > 0 {
			return fmt.Sprintf("%d %ss%s", n, noun[:i], noun[i:])
		}
		return fmt.Sprintf("%d %ss", n, noun)
	}
	return fmt.Sprintf("%d %s", n, noun)
}
