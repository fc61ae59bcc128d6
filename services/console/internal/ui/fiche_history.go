package ui

// The history of a fiche (/referentiel/fiches/{code}/historique): its changes, version by
// version.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

// ficheHistoryChange is one change of the fiche, in words.
type ficheHistoryChange struct {
	Action, Entity   string // in words: "Ajout", "appellation"
	Libelle, CodeOgr string
	Field            string // in words
	Before, After    string
	// Long: the values are texts, shown apart.
	Long bool
}

type ficheHistoryVersion struct {
	Version     int
	Label       string
	PublishedAt time.Time
	RequestID   string
	Changes     []ficheHistoryChange
	// Previous is the version the comparison starts from (0: none).
	Previous int
}

type ficheHistoryData struct {
	Code, Libelle string
	Versions      []ficheHistoryVersion
	Current       int
}

// changeFieldLabels word the fields a change names.
var changeFieldLabels = map[string]string{
	"libelle": "libellé", "libelleCourt": "libellé court", "definition": "définition", "accesEmploi": "accès à l'emploi",
	"transitionEcologique": "transition écologique", "transitionNumerique": "transition numérique",
	"transitionDemographique": "transition démographique", "emploiReglemente": "emploi réglementé", "emploiCadre": "emploi cadre",
	"domaineProfessionnel": "domaine professionnel", "classification": "classification", "rang": "rang",
	"codeRome": "fiche", "replacedBy": "remplacée par", "reason": "motif", "coeurMetier": "cœur de métier",
}

// changeValueText words a value of a change (a string, a flag, a mobilité…), in the
// fiche's history and in the request form's preview; a long text is cut at 200 characters.
func changeValueText(v any) string {
	switch x := v.(type) {
	case nil:
		return "(vide)"
	case string:
		switch x {
		case "":
			return "(vide)"
		case "PRINCIPALE":
			return "Principale"
		case "EMERGENTE":
			return "Émergente"
		case "SYNONYME":
			return "Synonyme"
		}
		return truncate(200, x)
	case bool:
		if x {
			return "Oui"
		}
		return "Non"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case map[string]any:
		if code, ok := x["codeRome"].(string); ok {
			s := "fiche " + code
			if r, ok := x["rang"].(float64); ok {
				s += fmt.Sprintf(", rang %g", r)
			}
			return s
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, orRaw(changeFieldLabels[k], k)+" : "+changeValueText(x[k]))
		}
		return strings.Join(parts, ", ")
	}
	if m, ok := v.(map[string]string); ok {
		values := make(map[string]any, len(m))
		for k, s := range m {
			values[k] = s
		}
		return changeValueText(values)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// capitalize puts the first letter of s in upper case.
func capitalize(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

func describeFicheChange(ch backend.HistoryEntry) ficheHistoryChange {
	c := ch.Change
	out := ficheHistoryChange{Action: capitalize(orRaw(changeActions[c.Action], c.Action)), Entity: orRaw(changeEntities[c.Entity], c.Entity), Libelle: c.Libelle, CodeOgr: c.CodeOgr, Field: orRaw(changeFieldLabels[c.Field], c.Field)}
	if c.Before != nil {
		out.Before = changeValueText(c.Before)
	}
	if c.After != nil {
		out.After = changeValueText(c.After)
	}
	if c.Entity == "coeurMetier" && out.Before == "" {
		out.Before = "(aucun)"
	}
	if c.Entity == "coeurMetier" && out.After == "" {
		out.After = "(aucun)"
	}
	out.Long = c.Entity == "texte"
	return out
}

// ficheLabels are the labels of a fiche's elements by code OGR.
func ficheLabels(f *backend.Fiche) map[string]string {
	labels := map[string]string{}
	if f == nil {
		return labels
	}
	for _, a := range f.Appellations {
		labels[a.CodeOgr] = a.Libelle
	}
	for _, m := range append(slices.Clone(f.Competences.SavoirFaire), f.Competences.SavoirEtreProfessionnels...) {
		labels[m.CodeOgr] = m.Libelle
		for _, it := range m.Competences {
			labels[it.CodeOgr] = it.Libelle
		}
	}
	for _, c := range f.Savoirs {
		for _, it := range c.Savoirs {
			labels[it.CodeOgr] = it.Libelle
		}
	}
	for _, t := range f.ContextesTravail {
		for _, it := range t.Contextes {
			labels[it.CodeOgr] = it.Libelle
		}
	}
	return labels
}

func (h *handlers) ficheHistory(c *gin.Context) {
	code, ok := h.ficheCode(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var (
		entries  []backend.HistoryEntry
		versions []backend.Version
		f        *backend.Fiche
		p        fanout
	)
	p.do(func() (err error) { entries, err = h.Backend.Referential.FicheHistory(ctx, code); return err })
	p.do(func() (err error) { versions, err = h.Backend.Referential.Versions(ctx); return err })
	p.do(func() error {
		fc, err := h.Backend.Referential.Fiche(ctx, code, 0)
		if err == nil {
			f = fc
		}
		if serviceNotFound(err) {
			return nil // a fiche that no longer exists still has its history
		}
		return err
	})
	if err := p.wait(); err != nil {
		h.backendFailed(c, err)
		return
	}
	d := ficheHistoryData{Code: code}
	if f != nil {
		d.Libelle = f.Libelle
	}
	byNumber := map[int]backend.Version{}
	for _, v := range versions {
		byNumber[v.Version] = v
		d.Current = max(d.Current, v.Version)
	}
	labels := ficheLabels(f)
	groups := map[int]*ficheHistoryVersion{}
	for _, e := range entries {
		if e.Change.Libelle == "" && e.Change.CodeOgr != "" {
			e.Change.Libelle = labels[e.Change.CodeOgr] // a cœur de métier change names only the code
		}
		g := groups[e.Version]
		if g == nil {
			v := byNumber[e.Version]
			g = &ficheHistoryVersion{Version: e.Version, Label: v.Label, PublishedAt: v.PublishedAt, RequestID: orRaw(e.RequestID, v.RequestID)}
			groups[e.Version] = g
		}
		g.Changes = append(g.Changes, describeFicheChange(e))
	}
	for _, g := range groups {
		for _, v := range versions {
			if v.Version < g.Version && v.Version > g.Previous {
				g.Previous = v.Version
			}
		}
		d.Versions = append(d.Versions, *g)
	}
	slices.SortFunc(d.Versions, func(a, b ficheHistoryVersion) int { return cmp.Compare(b.Version, a.Version) })
	h.render(c, http.StatusOK, "fiche_history", view{Title: "Historique de la fiche " + code, Section: "referentiel", Data: d})
}
