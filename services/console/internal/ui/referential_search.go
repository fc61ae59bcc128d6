package ui

// The search of the referential (/referentiel), as a page or, for htmx, its results only.

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// refSearchKinds are what the search looks in.
var refSearchKinds = []choice{
	{"tout", "Tout le ROME"},
	{"fiches", "Fiches métiers (libellé ou code ROME)"},
	{backend.SearchAppellations, "Appellations"},
	{backend.SearchCompetences, "Compétences"},
	{backend.SearchSavoirs, "Savoirs"},
}

const (
	refSearchLimitAll  = 10 // per kind, when searching everything
	refSearchLimitKind = 50 // when searching one kind
	refMaxQueryRunes   = 200
)

type refSearchData struct {
	Q, Kind      string
	Kinds        []choice
	Searched     bool
	Version      backend.CurrentVersion
	Fiches       []backend.FicheSummary
	Appellations []backend.SearchHit
	Competences  []backend.SearchHit
	Savoirs      []backend.SearchHit
	Limit        int
	// Fragment is set when htmx asked for the results only: the status line then
	// travels out of band.
	Fragment bool
}

// Total is the number of results shown.
func (d refSearchData) Total() int {
	return len(d.Fiches) + len(d.Appellations) + len(d.Competences) + len(d.Savoirs)
}

// Truncated tells whether a list of results was cut at the limit.
func (d refSearchData) Truncated() bool {
	return slices.Contains([]int{len(d.Fiches), len(d.Appellations), len(d.Competences), len(d.Savoirs)}, d.Limit)
}

// Show tells whether the results of a kind are asked for.
func (d refSearchData) Show(kind string) bool { return d.Kind == "tout" || d.Kind == kind }

func (h *handlers) referentialSearch(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	if r := []rune(q); len(r) > refMaxQueryRunes {
		q = string(r[:refMaxQueryRunes])
	}
	kind := c.Query("type")
	if !slices.ContainsFunc(refSearchKinds, func(o choice) bool { return o.Value == kind }) {
		kind = "tout"
	}
	d := refSearchData{Q: q, Kind: kind, Kinds: refSearchKinds, Searched: q != "", Limit: refSearchLimitKind,
		Fragment: c.GetHeader("HX-Request") == "true" && c.GetHeader("HX-Target") == "resultats"}
	if kind == "tout" {
		d.Limit = refSearchLimitAll
	}
	// The calls write d's fields while they run: nothing reads d (d.Show copies it) until
	// they are done.
	ctx := c.Request.Context()
	ref := h.Backend.Referential
	limit := d.Limit
	show := func(k string) bool { return kind == "tout" || kind == k }
	var p fanout
	p.do(func() (err error) { d.Version, err = ref.Version(ctx); return err })
	if q != "" {
		if show("fiches") {
			p.do(func() (err error) { d.Fiches, err = ref.Fiches(ctx, q, limit); return err })
		}
		var byCode *backend.FicheSummary
		if code := strings.ToUpper(q); show("fiches") && request.CodeRomePattern.MatchString(code) {
			p.do(func() error {
				f, err := ref.Fiche(ctx, code, 0)
				if serviceNotFound(err) {
					return nil
				}
				if err == nil {
					byCode = &backend.FicheSummary{CodeRome: f.CodeRome, Libelle: f.Libelle, GrandDomaine: f.GrandDomaine, DomaineProfessionnel: f.DomaineProfessionnel}
				}
				return err
			})
		}
		for _, k := range []struct {
			kind string
			into *[]backend.SearchHit
		}{{backend.SearchAppellations, &d.Appellations}, {backend.SearchCompetences, &d.Competences}, {backend.SearchSavoirs, &d.Savoirs}} {
			if show(k.kind) {
				p.do(func() (err error) { *k.into, err = ref.SearchWithFiches(ctx, k.kind, q, limit); return err })
			}
		}
		if err := p.wait(); err != nil {
			h.backendFailed(c, err)
			return
		}
		if byCode != nil && !slices.ContainsFunc(d.Fiches, func(f backend.FicheSummary) bool { return f.CodeRome == byCode.CodeRome }) {
			d.Fiches = append([]backend.FicheSummary{*byCode}, d.Fiches...)
		}
	} else if err := p.wait(); err != nil {
		h.backendFailed(c, err)
		return
	}
	title := "Rechercher dans le ROME"
	if d.Searched {
		title = "Résultats pour « " + truncate(60, q) + " » – " + title
	}
	h.render(c, http.StatusOK, "referential_search", view{Title: title, Section: "referentiel", Data: d})
}
