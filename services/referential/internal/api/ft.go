package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/ftcompat"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// France Travail–compatible routes: the four ROME 4.0 APIs (Métiers, Fiches métiers,
// Compétences, Contextes de travail) at France Travail's paths, so that a consumer switches
// by changing its base URLs. Every answer is encoded once per version (per fiche for the
// fiche-based ones) and lists are written from those encodings; champs narrows the
// encodings without decoding them.

func (h *handlers) ftRoutes(r *gin.RouterGroup, access func(scope string) gin.HandlerFunc) {
	m := r.Group("/rome-metiers/v1/metiers", access(app.ScopeMetiers))
	m.GET("/version", h.ftVersion)
	m.GET("/metier", h.ftFicheList(app.ShapeFTMetierItem, reflect.TypeFor[ftcompat.MetierItem](), metierFilter))
	m.GET("/metier/:code", h.ftFicheDoc(app.ShapeFTMetier, reflect.TypeFor[ftcompat.MetierDetail]()))
	m.GET("/appellation", h.ftFicheList(app.ShapeFTAppellations, reflect.TypeFor[ftcompat.AppellationDetail](), nil))
	m.GET("/appellation/requete", h.ftRequete)
	m.GET("/appellation/:code", h.ftAppellation)
	m.GET("/grand-domaine", h.ftList(grandsDomaines, reflect.TypeFor[ftcompat.GrandDomaineDetail]()))
	m.GET("/grand-domaine/:code", h.ftItem(grandsDomaines, reflect.TypeFor[ftcompat.GrandDomaineDetail](), "grand_domaine_not_found"))
	m.GET("/domaine-professionnel", h.ftList(domainesPro, reflect.TypeFor[ftcompat.DomaineProfessionnelDetail]()))
	m.GET("/domaine-professionnel/:code", h.ftItem(domainesPro, reflect.TypeFor[ftcompat.DomaineProfessionnelDetail](), "domaine_professionnel_not_found"))
	m.GET("/theme", h.ftList(themes, reflect.TypeFor[ftcompat.MetierGroup]()))
	m.GET("/theme/:code", h.ftItem(themes, reflect.TypeFor[ftcompat.MetierGroup](), "theme_not_found"))
	m.GET("/centre-interet", h.ftList(centresInterets, reflect.TypeFor[ftcompat.MetierGroup]()))
	m.GET("/centre-interet/:code", h.ftItem(centresInterets, reflect.TypeFor[ftcompat.MetierGroup](), "centre_interet_not_found"))
	m.GET("/secteur-activite", h.ftList(secteursActivites, reflect.TypeFor[ftcompat.SecteurActiviteDetail]()))
	m.GET("/secteur-activite/:code", h.ftItem(secteursActivites, reflect.TypeFor[ftcompat.SecteurActiviteDetail](), "secteur_activite_not_found"))

	f := r.Group("/rome-fiches-metiers/v1/fiches-rome", access(app.ScopeFichesMetiers))
	f.GET("/version", h.ftVersion)
	f.GET("/fiche-metier", h.ftFicheList(app.ShapeFTFiche, reflect.TypeFor[ftcompat.FicheMetierDetail](), nil))
	f.GET("/fiche-metier/:code", h.ftFicheDoc(app.ShapeFTFiche, reflect.TypeFor[ftcompat.FicheMetierDetail]()))

	c := r.Group("/rome-competences/v1/competences", access(app.ScopeCompetences))
	c.GET("/version", h.ftVersion)
	for _, k := range competenceKinds {
		list := func(st *app.State) *ftList { return competences(st).byKind[k.path] }
		c.GET("/"+k.path, h.ftList(list, reflect.TypeFor[ftcompat.CompetenceDetail]()))
		c.GET("/"+k.path+"/:code", h.ftItem(list, reflect.TypeFor[ftcompat.CompetenceDetail](), "competence_not_found"))
	}

	x := r.Group("/rome-contextes-travail/v1/situations-travail", access(app.ScopeContextesTravail))
	x.GET("/version", h.ftVersion)
	x.GET("/contexte-travail", h.ftList(contextes, reflect.TypeFor[ftcompat.ContexteTravail]()))
	x.GET("/contexte-travail/:code", h.ftItem(contextes, reflect.TypeFor[ftcompat.ContexteTravail](), "contexte_not_found"))
}

// ftAccess lets anyone read the France Travail routes (public data, throttled by address);
// a valid access token of the token route granted the API's scope, or a token of the
// platform, lifts the limit. As France Travail refuses them, an access token without the
// API's scope is a 403 (a caller may still send none and be throttled) and any other
// bearer token a 401.
func ftAccess(d Deps, throttle gin.HandlerFunc) func(scope string) gin.HandlerFunc {
	return func(scope string) gin.HandlerFunc {
		return func(c *gin.Context) {
			header := c.GetHeader("Authorization")
			if header == "" {
				throttle(c)
				return
			}
			scheme, token, _ := strings.Cut(header, " ")
			if token = strings.TrimSpace(token); strings.EqualFold(scheme, "Bearer") && token != "" {
				if d.Clients != nil {
					grant, err := d.Clients.Verify(c.Request.Context(), token)
					switch {
					case err == nil && grant.Has(scope):
						return
					case err == nil:
						c.Header("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q`, scope))
						httpx.WriteProblem(c, httpx.Forbidden("insufficient_scope", fmt.Sprintf(
							"The access token was not granted %s, the scope of this API: ask the token route for it (an admin registers the client's scopes), or send no token.", scope)))
						return
					case !errors.Is(err, app.ErrInvalidToken):
						c.Error(err)
						c.Abort()
						return
					}
				}
				if d.SignedIn != nil && d.SignedIn(c.Request) {
					return
				}
			}
			c.Header("WWW-Authenticate", `Bearer error="invalid_token", error_description="the access token is invalid or expired"`)
			httpx.WriteProblem(c, httpx.Unauthorized("invalid_token", "The access token is invalid or expired: get a new one from POST /connexion/oauth2/access_token, or send none."))
		}
	}
}

// ftList is a list answer: the encoding of each item, and each item's place by code.
type ftList struct {
	parts [][]byte
	index map[string]int
}

func newFTList(n int) *ftList {
	return &ftList{parts: make([][]byte, 0, n), index: make(map[string]int, n)}
}

func (l *ftList) add(code string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs: cannot fail
	}
	l.index[code] = len(l.parts)
	l.parts = append(l.parts, b)
}

// ftListOf encodes items, each under its code.
func ftListOf[T any](items []T, code func(T) string) *ftList {
	l := newFTList(len(items))
	for _, it := range items {
		l.add(code(it), it)
	}
	return l
}

// champs parses the selector of the request (repeated parameters are joined) against the
// answer's type, or renders the 400 France Travail answers.
func champs(c *gin.Context, answer reflect.Type) (*ftcompat.Selector, bool) {
	sel, err := ftcompat.Parse(strings.Join(c.QueryArray("champs"), ","), answer)
	if err != nil {
		c.Error(httpx.BadRequest("invalid_champs", err.Error()))
		return nil, false
	}
	return sel, true
}

// writeFTList writes a JSON array of parts narrowed by sel. A part that is itself an array
// (the appellations of a fiche) contributes its items.
func writeFTList(c *gin.Context, parts [][]byte, sel *ftcompat.Selector) {
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(http.StatusOK)
	w := bufio.NewWriterSize(c.Writer, 64<<10)
	w.WriteByte('[')
	first := true
	for _, p := range parts {
		if sel != nil {
			p = sel.Project(p)
		}
		if p[0] == '[' {
			if p = p[1 : len(p)-1]; len(p) == 0 {
				continue
			}
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		w.Write(p)
	}
	w.WriteByte(']')
	w.Flush() // a write error is the client gone: nothing left to tell it
}

func writeFT(c *gin.Context, part []byte, sel *ftcompat.Selector) {
	if sel != nil {
		part = sel.Project(part)
	}
	writeJSONBytes(c, part)
}

// ftListShapes are the fiche shapes the France Travail lists are assembled from.
var ftListShapes = []app.Shape{app.ShapeFTMetierItem, app.ShapeFTMetierResume, app.ShapeFTAppellations, app.ShapeFTFiche}

// ficheParts are the encodings of every fiche in a shape, in code order. The first list
// asked of a version encodes every list shape at once, building each fiche once (the
// service does it when it loads a version: see WarmShapes).
func ficheParts(st *app.State, shape app.Shape) [][]byte {
	return st.Memo(fmt.Sprintf("ft-parts-%d", shape), func() any {
		st.Memo("ft-warm", func() any {
			shapes := map[app.Shape]func(*fiche.Fiche) any{}
			for _, s := range ftListShapes {
				shapes[s] = Shapes[s]
			}
			st.Warm(shapes)
			return nil
		})
		parts := make([][]byte, 0, len(st.Codes()))
		for _, code := range st.Codes() {
			d, _ := st.Doc(code)
			parts = append(parts, d.Encode(shape, Shapes[shape]))
		}
		return parts
	}).([][]byte)
}

// ficheFilter reads the filters of a list of fiches: keep tells which fiches the list
// keeps (nil: every one), ok is false when it rendered a problem.
type ficheFilter func(c *gin.Context, st *app.State) (keep func(code string) bool, ok bool)

// ftFicheList serves a list of one shape of every fiche, narrowed by filter (nil: none).
func (h *handlers) ftFicheList(shape app.Shape, item reflect.Type, filter ficheFilter) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, ok := h.state(c)
		if !ok {
			return
		}
		var keep func(string) bool
		if filter != nil {
			if keep, ok = filter(c, st); !ok {
				return
			}
		}
		sel, ok := champs(c, item)
		if !ok || notModified(c, st) {
			return
		}
		parts := ficheParts(st, shape)
		if keep != nil {
			kept := make([][]byte, 0, len(parts))
			for i, code := range st.Codes() {
				if keep(code) {
					kept = append(kept, parts[i])
				}
			}
			parts = kept
		}
		writeFTList(c, parts, sel)
	}
}

// metierFilter reads the filters of GET /metiers/metier (ftcompat.MetierFilter): an
// unknown RIASEC value is a 400, as a wrong champs is.
func metierFilter(c *gin.Context, st *app.State) (func(string) bool, bool) {
	f := ftcompat.MetierFilter{CodeNaf: c.Query("code-naf"), CodeCompetence: c.Query("code-competence")}
	for _, p := range []struct {
		name   string
		letter *string
	}{{"riasec-majeur", &f.RiasecMajeur}, {"riasec-mineur", &f.RiasecMineur}} {
		v := c.Query(p.name)
		if v == "" {
			continue
		}
		letter, ok := ftcompat.RiasecLetter(v)
		if !ok {
			c.Error(httpx.BadRequest("invalid_riasec", fmt.Sprintf("%s is a RIASEC letter (R, I, A, S, E, C) or its word (Réaliste, Investigatif, Artistique, Social, Entreprenant, Conventionnel), not %q", p.name, v)))
			return nil, false
		}
		*p.letter = letter
	}
	if f.Empty() {
		return nil, true
	}
	ix := st.Memo("ft-metier-index", func() any { return ftcompat.NewMetierIndex(st.Snap) }).(*ftcompat.MetierIndex)
	return func(code string) bool { return ix.Keeps(f, code) }, true
}

// ftFicheDoc serves one fiche in a shape.
func (h *handlers) ftFicheDoc(shape app.Shape, answer reflect.Type) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, ok := h.state(c)
		if !ok {
			return
		}
		d, ok := lookupDoc(c, st, c.Param("code"))
		if !ok {
			return
		}
		sel, ok := champs(c, answer)
		switch {
		case !ok:
		case sel == nil:
			writeDoc(c, st, d, shape)
		case !notModified(c, st):
			writeFT(c, d.Encode(shape, Shapes[shape]), sel)
		}
	}
}

// ftList serves a list built once per version.
func (h *handlers) ftList(list func(*app.State) *ftList, item reflect.Type) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, ok := h.state(c)
		if !ok {
			return
		}
		sel, ok := champs(c, item)
		if !ok || notModified(c, st) {
			return
		}
		writeFTList(c, list(st).parts, sel)
	}
}

// ftItem serves one item of a list by its code.
func (h *handlers) ftItem(list func(*app.State) *ftList, answer reflect.Type, notFound string) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, ok := h.state(c)
		if !ok {
			return
		}
		l := list(st)
		i, found := l.index[c.Param("code")]
		if !found {
			c.Error(httpx.NotFound(notFound, fmt.Sprintf("no item with code %q in version %d", c.Param("code"), st.Version())))
			return
		}
		sel, ok := champs(c, answer)
		if !ok || notModified(c, st) {
			return
		}
		writeFT(c, l.parts[i], sel)
	}
}

// ftDomaines are the grand-domaine and domaine-professionnel answers of a version.
type ftDomaines struct{ grands, domaines *ftList }

func domainesOf(st *app.State) ftDomaines {
	return st.Memo("ft-domaines", func() any {
		gd, dp := ftcompat.Domaines(st.Snap, st.Codes(), ficheParts(st, app.ShapeFTMetierResume))
		return ftDomaines{ftListOf(gd, func(g ftcompat.GrandDomaineDetail) string { return g.Code }),
			ftListOf(dp, func(d ftcompat.DomaineProfessionnelDetail) string { return d.Code })}
	}).(ftDomaines)
}

func grandsDomaines(st *app.State) *ftList { return domainesOf(st).grands }
func domainesPro(st *app.State) *ftList    { return domainesOf(st).domaines }

// ftMetierGroups are the thème, centre d'intérêt and secteur d'activité answers of a version.
type ftMetierGroups struct{ themes, centres, secteurs *ftList }

func metierGroupsOf(st *app.State) ftMetierGroups {
	return st.Memo("ft-metier-groups", func() any {
		g := ftcompat.Groups(st.Snap, st.Codes(), ficheParts(st, app.ShapeFTMetierResume))
		code := func(g ftcompat.MetierGroup) string { return g.Code }
		return ftMetierGroups{ftListOf(g.Themes, code), ftListOf(g.CentresInterets, code),
			ftListOf(g.SecteursActivites, func(s ftcompat.SecteurActiviteDetail) string { return s.Code })}
	}).(ftMetierGroups)
}

func themes(st *app.State) *ftList            { return metierGroupsOf(st).themes }
func centresInterets(st *app.State) *ftList   { return metierGroupsOf(st).centres }
func secteursActivites(st *app.State) *ftList { return metierGroupsOf(st).secteurs }

// competenceKinds are the lists of the Compétences API and the types each holds (nil:
// every type).
var competenceKinds = []struct {
	path  string
	types []string
}{
	{"competence", nil},
	{"competence-detaillee", []string{ftcompat.TypeCompetenceDetaillee}},
	{"macro-competence", []string{ftcompat.TypeMacroSavoirFaire, ftcompat.TypeMacroSavoirEtre}},
	{"macro-savoir-faire", []string{ftcompat.TypeMacroSavoirFaire}},
	{"macro-savoir-etre-professionnel", []string{ftcompat.TypeMacroSavoirEtre}},
	{"savoir", []string{ftcompat.TypeSavoir}},
}

type ftCompetences struct{ byKind map[string]*ftList }

// competences encodes every item of the Compétences API once; each list shares the bytes.
func competences(st *app.State) ftCompetences {
	return st.Memo("ft-competences", func() any {
		items := ftcompat.Competences(st.Snap)
		all := ftListOf(items, func(it ftcompat.CompetenceDetail) string { return it.Code })
		out := ftCompetences{byKind: map[string]*ftList{}}
		for _, k := range competenceKinds {
			if k.types == nil {
				out.byKind[k.path] = all
				continue
			}
			l := newFTList(0)
			for i, it := range items {
				if slices.Contains(k.types, it.Type) {
					l.index[it.Code] = len(l.parts)
					l.parts = append(l.parts, all.parts[i])
				}
			}
			out.byKind[k.path] = l
		}
		return out
	}).(ftCompetences)
}

func contextes(st *app.State) *ftList {
	return st.Memo("ft-contextes", func() any {
		return ftListOf(ftcompat.Contextes(st.Snap), func(it ftcompat.ContexteTravail) string { return it.Code })
	}).(*ftList)
}

// ftAppellationIndex is every appellation of a version by code, as the lists show it.
func ftAppellationIndex(st *app.State) map[string]ftcompat.AppellationDetail {
	return st.Memo("ft-appellation-index", func() any {
		index := make(map[string]ftcompat.AppellationDetail, st.Snap.T(romecsv.Appellation).Len())
		for _, part := range ficheParts(st, app.ShapeFTAppellations) {
			var as []ftcompat.AppellationDetail
			if err := json.Unmarshal(part, &as); err != nil {
				panic(err) // our own encoding
			}
			for _, a := range as {
				index[a.Code] = a
			}
		}
		return index
	}).(map[string]ftcompat.AppellationDetail)
}

// ftRequete searches appellations by label: GET /metiers/appellation/requete?q=.
func (h *handlers) ftRequete(c *gin.Context) {
	st, ok := h.state(c)
	if !ok {
		return
	}
	q := strings.TrimSpace(c.Query("q"))
	if q == "" {
		c.Error(httpx.BadRequest("query_required", "q is required: the text searched in the appellations' labels"))
		return
	}
	sel, ok := champs(c, reflect.TypeFor[ftcompat.RequeteAppellation]())
	if !ok {
		return
	}
	hits, _ := st.Search("appellations", q, st.Snap.T(romecsv.Appellation).Len())
	index := ftAppellationIndex(st)
	res := ftcompat.RequeteAppellation{TotalResultats: len(hits), Requete: q, Resultats: make([]ftcompat.RequeteResultat, 0, ftcompat.MaxRequeteResultats)}
	for _, hit := range hits[:min(len(hits), ftcompat.MaxRequeteResultats)] {
		res.Resultats = append(res.Resultats, ftcompat.Resultat(index[hit.CodeOgr]))
	}
	b, err := ftcompat.Select(res, "")
	if err != nil {
		c.Error(err)
		return
	}
	writeFT(c, b, sel)
}

func (h *handlers) ftVersion(c *gin.Context) {
	st, ok := h.state(c)
	if !ok || notModified(c, st) {
		return
	}
	c.JSON(http.StatusOK, ftcompat.MetierVersion(st.Version(), st.Snap.Version.LastModified))
}

func (h *handlers) ftAppellation(c *gin.Context) {
	st, ok := h.state(c)
	if !ok {
		return
	}
	a, found := ftAppellationIndex(st)[c.Param("code")]
	if !found {
		c.Error(httpx.NotFound("appellation_not_found", fmt.Sprintf("no appellation with code %q", c.Param("code"))))
		return
	}
	sel, ok := champs(c, reflect.TypeFor[ftcompat.AppellationDetail]())
	if !ok || notModified(c, st) {
		return
	}
	b, err := ftcompat.Select(a, "")
	if err != nil {
		c.Error(err)
		return
	}
	writeFT(c, b, sel)
}
