package ui

// The comparison of two versions of a fiche (/referentiel/fiches/{code}/comparaison).

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

type ficheCompareData struct {
	Code, Libelle string
	Versions      []refVersion
	De, A         int
	Errors        fieldErrors
	Compared      bool
	// DeMissing, AMissing: the fiche did not exist at that version.
	DeMissing, AMissing bool
	Diff                ficheDiff
}

func (h *handlers) ficheCompare(c *gin.Context) {
	code, ok := h.ficheCode(c)
	if !ok {
		return
	}
	de, ok := h.versionParam(c, "de")
	if !ok {
		return
	}
	a, ok := h.versionParam(c, "a")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	versions, err := h.Backend.Referential.Versions(ctx)
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	d := ficheCompareData{Code: code, Versions: refVersions(versions), Errors: fieldErrors{}}
	known := func(n int) bool {
		return slices.ContainsFunc(d.Versions, func(v refVersion) bool { return v.Version == n })
	}
	// Without a choice: the latest version against the one before.
	if a == 0 && len(d.Versions) > 0 {
		a = d.Versions[0].Version
	}
	if de == 0 {
		for _, v := range d.Versions {
			if v.Version < a {
				de = v.Version
				break
			}
		}
	}
	d.De, d.A = de, a
	switch {
	case de == 0 || a == 0:
		// A single version: nothing to compare; the page says so.
	case !known(de):
		d.Errors.add("de", fmt.Sprintf("La version %d n'existe pas : choisissez une version de la liste.", de))
	case !known(a):
		d.Errors.add("a", fmt.Sprintf("La version %d n'existe pas : choisissez une version de la liste.", a))
	case de == a:
		d.Errors.add("a", "Choisissez une version d'arrivée différente de la version de départ.")
	}
	status := http.StatusOK
	if d.Errors.Any() || de == 0 || a == 0 {
		if d.Errors.Any() {
			status = http.StatusUnprocessableEntity
		}
		if f, err := h.Backend.Referential.Fiche(ctx, code, 0); err == nil {
			d.Libelle = f.Libelle
		} else if !serviceNotFound(err) {
			h.backendFailed(c, err)
			return
		}
		h.render(c, status, "fiche_compare", view{Title: "Comparer deux versions de la fiche " + code, Section: "referentiel", Data: d})
		return
	}
	var (
		before, after *backend.Fiche
		p             fanout
	)
	fetch := func(n int, into **backend.Fiche, missing *bool) func() error {
		return func() error {
			f, err := h.Backend.Referential.Fiche(ctx, code, n)
			if serviceNotFound(err) {
				*missing = true
				return nil
			}
			*into = f
			return err
		}
	}
	p.do(fetch(de, &before, &d.DeMissing))
	p.do(fetch(a, &after, &d.AMissing))
	if err := p.wait(); err != nil {
		h.backendFailed(c, err)
		return
	}
	if before == nil && after == nil {
		h.errorPage(c, http.StatusNotFound, pageError{Detail: fmt.Sprintf("La fiche %s n'existe ni à la version %d ni à la version %d.", code, de, a),
			Back: "/referentiel", BackLabel: "Rechercher dans le ROME"})
		return
	}
	if after != nil {
		d.Libelle = after.Libelle
	} else {
		d.Libelle = before.Libelle
	}
	d.Compared, d.Diff = true, diffFiches(before, after)
	h.render(c, status, "fiche_compare", view{Title: "Comparer deux versions de la fiche " + code, Section: "referentiel", Data: d})
}
