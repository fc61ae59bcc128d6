package ui

// A fiche as of any version (/referentiel/fiches/{code}), and following it.

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

// ficheText is a text of the fiche: its first line, then the others (the official texts
// are a sentence followed by a list of activities, one a line).
type ficheText struct {
	Intro  string
	Points []string
}

func splitFicheText(s string) ficheText {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return ficheText{}
	}
	return ficheText{Intro: lines[0], Points: lines[1:]}
}

// ficheItemLine is a compétence, savoir or contexte as the page shows it.
type ficheItemLine struct {
	CodeOgr, Libelle, Coeur string
}

type ficheItemGroup struct {
	Libelle string
	// Linked: the macro-compétence itself is on the fiche.
	Linked bool
	Coeur  string
	Items  []ficheItemLine
}

func ficheItems(in []backend.Item) []ficheItemLine {
	out := make([]ficheItemLine, 0, len(in))
	for _, it := range in {
		out = append(out, ficheItemLine{CodeOgr: it.CodeOgr, Libelle: it.Libelle, Coeur: coeurText(it.CoeurMetier)})
	}
	return out
}

// savoirItems are the items of savoirs (a Savoir embeds its Item).
func savoirItems(ss []backend.Savoir) []backend.Item {
	out := make([]backend.Item, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Item)
	}
	return out
}

func ficheMacroGroups(ms []backend.MacroCompetence) []ficheItemGroup {
	out := make([]ficheItemGroup, 0, len(ms))
	for _, m := range ms {
		out = append(out, ficheItemGroup{Libelle: m.Libelle, Linked: m.Linked, Coeur: coeurText(m.CoeurMetier), Items: ficheItems(m.Competences)})
	}
	return out
}

type fichePageData struct {
	F                       *backend.Fiche
	Definition              ficheText
	Acces                   ficheText
	Tags                    []ficheTagLine
	SavoirFaire, SavoirEtre []ficheItemGroup
	Savoirs                 []ficheItemGroup
	Contextes               []ficheItemGroup
	Mobilites               []backend.Mobilite
	// Current is the referential's latest version; Old tells the page shows an older one.
	Current  int
	Old      bool
	Versions []refVersion
	// Following: the person follows the fiche; FollowKnown is false when the
	// notifications service did not answer.
	Following, FollowKnown bool
	Partner                bool
	// CompareFrom is the version the comparison link starts from (0: none before).
	CompareFrom int
	Provenance  ficheProvenance
	// NextRelease is the release being prepared, nil when the deployment publishes every
	// accepted request at once; Next tells the page shows the fiche as it will publish it.
	NextRelease *backend.Release
	Next        bool
}

// Counts of the page's sections.
func (d fichePageData) CompetenceCount() int {
	n := 0
	for _, g := range append(slices.Clone(d.SavoirFaire), d.SavoirEtre...) {
		n += len(g.Items)
		if g.Linked {
			n++
		}
	}
	return n
}

func (d fichePageData) SavoirCount() int {
	n := 0
	for _, g := range d.Savoirs {
		n += len(g.Items)
	}
	return n
}

func (d fichePageData) ContexteCount() int {
	n := 0
	for _, g := range d.Contextes {
		n += len(g.Items)
	}
	return n
}

func (h *handlers) fichePage(c *gin.Context) {
	code, ok := h.ficheCode(c)
	if !ok {
		return
	}
	version, ok := refclient.NextVersion, c.Query("version") == "next"
	if !ok {
		if version, ok = h.versionParam(c, "version"); !ok {
			return
		}
	}
	ctx := c.Request.Context()
	var (
		f         *backend.Fiche
		versions  []backend.Version
		follows   []notifclient.Follow
		followErr error
		prov      *refclient.Provenance
		next      *backend.Release
		p         fanout
	)
	p.do(func() (err error) { f, err = h.Backend.Referential.Fiche(ctx, code, version); return err })
	p.do(func() (err error) { versions, err = h.Backend.Referential.Versions(ctx); return err })
	p.do(func() (err error) { next, _, err = h.Backend.Referential.NextRelease(ctx); return err })
	p.do(func() error { follows, followErr = h.Backend.Notifications.Follows(ctx); return nil })
	// The fiche shows without its provenance rather than not at all.
	p.do(func() error {
		if pr, err := h.Backend.Referential.Provenance(ctx, code, version); err == nil {
			prov = pr
		}
		return nil
	})
	if err := p.wait(); err != nil {
		switch {
		case version > 0 && serviceNotFound(err):
			h.errorPage(c, http.StatusNotFound, pageError{
				Detail: fmt.Sprintf("La fiche %s n'existe pas à la version %d du référentiel (ou cette version n'existe pas).", code, version),
				Back:   "/referentiel/fiches/" + code, BackLabel: "Voir la fiche à la version actuelle"})
			return
		case version == refclient.NextVersion && next == nil:
			if _, trainsOff := problemWithStatus(err, http.StatusConflict); trainsOff {
				h.errorPage(c, http.StatusNotFound, pageError{
					Detail: "Ce déploiement publie chaque demande acceptée aussitôt : il n'y a pas de prochaine release à consulter.",
					Back:   "/referentiel/fiches/" + code, BackLabel: "Voir la fiche à la version actuelle"})
				return
			}
		}
		h.backendFailed(c, err)
		return
	}
	d := fichePageData{
		F: f, Definition: splitFicheText(f.Definition), Acces: splitFicheText(f.AccesEmploi), Tags: ficheTags(f.Tags),
		SavoirFaire: ficheMacroGroups(f.Competences.SavoirFaire), SavoirEtre: ficheMacroGroups(f.Competences.SavoirEtreProfessionnels),
		Mobilites: slices.Clone(f.Mobilites), Versions: refVersions(versions),
		FollowKnown: followErr == nil, Partner: person(c).Role == auth.RolePartner, Provenance: buildProvenance(prov),
		NextRelease: next, Next: version == refclient.NextVersion,
	}
	for _, s := range f.Savoirs {
		d.Savoirs = append(d.Savoirs, ficheItemGroup{Libelle: s.Categorie, Items: ficheItems(savoirItems(s.Savoirs))})
	}
	for _, t := range f.ContextesTravail {
		d.Contextes = append(d.Contextes, ficheItemGroup{Libelle: t.Libelle, Items: ficheItems(t.Contextes)})
	}
	slices.SortStableFunc(d.Mobilites, func(a, b backend.Mobilite) int { return cmp.Compare(a.Rang, b.Rang) })
	for _, fl := range follows {
		if fl.CodeRome == code {
			d.Following = true
		}
	}
	if len(d.Versions) > 0 {
		d.Current = d.Versions[0].Version
	}
	d.Old = !d.Next && d.Current > 0 && f.Version < d.Current
	for _, v := range d.Versions {
		if v.Version < f.Version {
			d.CompareFrom = v.Version
			break
		}
	}
	title := "Fiche " + f.CodeRome + " – " + f.Libelle
	switch {
	case d.Next:
		title += " (prochaine release)"
	case d.Old:
		title += fmt.Sprintf(" (version %d)", f.Version)
	}
	h.render(c, http.StatusOK, "fiche", view{Title: title, Section: "referentiel", Data: d})
}

// ficheFollow follows the fiche: its evolutions are notified to the person.
func (h *handlers) ficheFollow(c *gin.Context) {
	code, ok := h.ficheCode(c)
	if !ok {
		return
	}
	if err := h.Backend.Notifications.Follow(c.Request.Context(), notifclient.Follow{CodeRome: code}); err != nil {
		h.backendFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/referentiel/fiches/"+code+"?message=suivie")
}
