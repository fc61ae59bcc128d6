package ui

// The referential's pages: the search (/referentiel), a fiche as of any version
// (/referentiel/fiches/{code}), its history, the comparison of two of its versions, and
// following it.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	notifclient "github.com/plateforme-rome/rome/services/notifications/client"
)

// ficheCodePattern is a code ROME: a letter A to N and four digits.
var ficheCodePattern = regexp.MustCompile(`^[A-N][0-9]{4}$`)

// fanout runs a page's calls to the services at the same time and keeps the first error.
type fanout struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

func (p *fanout) do(fn func() error) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := fn(); err != nil {
			p.mu.Lock()
			if p.err == nil {
				p.err = err
			}
			p.mu.Unlock()
		}
	}()
}

func (p *fanout) wait() error {
	p.wg.Wait()
	return p.err
}

// serviceNotFound tells whether err is a service's 404.
func serviceNotFound(err error) bool {
	e, ok := backend.AsError(err)
	return ok && e.Status == http.StatusNotFound
}

// problemWithStatus is err as a service's refusal with that status.
func problemWithStatus(err error, status int) (*backend.Error, bool) {
	e, ok := backend.AsError(err)
	return e, ok && e.Status == status
}

// backWithMessage is a local return address with the confirmation to show there.
func backWithMessage(target, message string) string {
	u, err := url.Parse(localPath(target))
	if err != nil {
		return "/?message=" + url.QueryEscape(message)
	}
	q := u.Query()
	q.Set("message", message)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// choice is a choice of a select.
type choice struct{ Value, Label string }

// --- Search ---------------------------------------------------------------------------

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
		if code := strings.ToUpper(q); show("fiches") && ficheCodePattern.MatchString(code) {
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

// --- The fiche ------------------------------------------------------------------------

// ficheCode reads the :code of the route: a code ROME, or a 404 page. A code typed in
// lower case is sent to its canonical address.
func (h *handlers) ficheCode(c *gin.Context) (string, bool) {
	code := c.Param("code")
	if up := strings.ToUpper(code); up != code && ficheCodePattern.MatchString(up) {
		u := *c.Request.URL
		u.Path = strings.Replace(u.Path, "/"+code, "/"+up, 1)
		c.Redirect(http.StatusMovedPermanently, u.RequestURI())
		return "", false
	}
	if !ficheCodePattern.MatchString(code) {
		h.errorPage(c, http.StatusNotFound, pageError{Detail: "« " + truncate(20, code) + " » n'est pas un code ROME : une lettre de A à N suivie de quatre chiffres, par exemple M1805.",
			Back: "/referentiel", BackLabel: "Rechercher dans le ROME"})
		return "", false
	}
	return code, true
}

// versionParam reads a version number of the query: 0 when absent, false (after a 400
// page) when it is not a positive number.
func (h *handlers) versionParam(c *gin.Context, name string) (int, bool) {
	s := strings.TrimSpace(c.Query(name))
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Une version du référentiel est un nombre entier positif, par exemple 61."})
		return 0, false
	}
	return n, true
}

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

// ficheTagLine is an indicator of the fiche, in words.
type ficheTagLine struct{ Label, Value string }

func ficheTags(t backend.Tags) []ficheTagLine {
	return []ficheTagLine{
		{"Transition écologique", orRaw(t.TransitionEcologique, "Non renseigné")},
		{"Transition numérique", flagText(t.TransitionNumerique)},
		{"Transition démographique", flagText(t.TransitionDemographique)},
		{"Emploi réglementé", flagText(t.EmploiReglemente)},
		{"Emploi cadre", flagText(t.EmploiCadre)},
	}
}

func flagText(b *bool) string {
	switch {
	case b == nil:
		return "Non renseigné"
	case *b:
		return "Oui"
	}
	return "Non"
}

// coeurText words a cœur de métier flag.
func coeurText(c *string) string {
	if c == nil {
		return ""
	}
	switch *c {
	case "PRINCIPALE":
		return "Principale"
	case "EMERGENTE":
		return "Émergente"
	}
	return *c
}

func classificationText(c string) string {
	switch c {
	case "PRINCIPALE":
		return "Principale"
	case "SYNONYME":
		return "Synonyme"
	}
	return c
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

// refVersion is a version in a select.
type refVersion struct {
	Version     int
	Label       string
	PublishedAt time.Time
}

// refVersions are the referential's versions, newest first.
func refVersions(vs []backend.Version) []refVersion {
	out := make([]refVersion, 0, len(vs))
	for _, v := range vs {
		out = append(out, refVersion{Version: v.Version, Label: v.Label, PublishedAt: v.PublishedAt})
	}
	slices.SortFunc(out, func(a, b refVersion) int { return cmp.Compare(b.Version, a.Version) })
	return out
}

func (h *handlers) fichePage(c *gin.Context) {
	code, ok := h.ficheCode(c)
	if !ok {
		return
	}
	version, ok := h.versionParam(c, "version")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var (
		f         *backend.Fiche
		versions  []backend.Version
		follows   []notifclient.Follow
		followErr error
		p         fanout
	)
	p.do(func() (err error) { f, err = h.Backend.Referential.Fiche(ctx, code, version); return err })
	p.do(func() (err error) { versions, err = h.Backend.Referential.Versions(ctx); return err })
	p.do(func() error { follows, followErr = h.Backend.Notifications.Follows(ctx); return nil })
	if err := p.wait(); err != nil {
		if version > 0 && serviceNotFound(err) {
			h.errorPage(c, http.StatusNotFound, pageError{
				Detail: fmt.Sprintf("La fiche %s n'existe pas à la version %d du référentiel (ou cette version n'existe pas).", code, version),
				Back:   "/referentiel/fiches/" + code, BackLabel: "Voir la fiche à la version actuelle"})
			return
		}
		h.backendFailed(c, err)
		return
	}
	d := fichePageData{
		F: f, Definition: splitFicheText(f.Definition), Acces: splitFicheText(f.AccesEmploi), Tags: ficheTags(f.Tags),
		SavoirFaire: ficheMacroGroups(f.Competences.SavoirFaire), SavoirEtre: ficheMacroGroups(f.Competences.SavoirEtreProfessionnels),
		Mobilites: slices.Clone(f.Mobilites), Versions: refVersions(versions),
		FollowKnown: followErr == nil, Partner: person(c).Role == auth.RolePartner,
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
	d.Old = d.Current > 0 && f.Version < d.Current
	for _, v := range d.Versions {
		if v.Version < f.Version {
			d.CompareFrom = v.Version
			break
		}
	}
	title := "Fiche " + f.CodeRome + " – " + f.Libelle
	if d.Old {
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

// --- History --------------------------------------------------------------------------

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
}

// changeValueText words a value of a change (a string, a flag, a mobilité…).
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
		return x
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

// --- Comparison -----------------------------------------------------------------------

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
