package api

// The referential for its consumers, incrementally: the change feed (JSON and Atom), each
// version's delta file and the provenance of a fiche's elements.

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// changes serves GET /v1/changes?since=N: the changes of every version after N, in the
// order they were published (version, then their sequence in the version), a page at a
// time. The changelog is append-only, so the cursor (the last change served) stays valid
// while versions are published. A consumer pages until nextCursor is null, then polls
// again with since = the answer's version; a page never goes past that version.
func (h *handlers) changes(c *gin.Context) { serveFeed(h, c, h.svc.Changes) }

// correspondences serves GET /v1/correspondences?since=N: every appellation removed with a
// replacement by the versions after N, paged as the change feed is.
func (h *handlers) correspondences(c *gin.Context) { serveFeed(h, c, h.svc.Correspondences) }

// serveFeed serves a page of a list that follows the versions, read by list.
func serveFeed[T any](h *handlers, c *gin.Context, list func(context.Context, *app.State, int, *store.FeedPosition, int) (*app.FeedPage[T], error)) {
	st, ok := h.state(c)
	if !ok {
		return
	}
	since, limit, pos, ok := feedParams(c, st)
	if !ok || notModified(c, st) {
		return
	}
	page, err := list(c.Request.Context(), st, since, pos, limit)
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"since": since, "version": st.Version(), "items": page.Items, "nextCursor": feedCursor(page.Next)})
}

// feedParams reads the parameters of a list that follows the versions: since (a version,
// 0 by default: since the official import), limit and the cursor.
func feedParams(c *gin.Context, st *app.State) (since, limit int, pos *store.FeedPosition, ok bool) {
	if q, given := c.GetQuery("since"); given {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 {
			c.Error(httpx.Unprocessable("invalid_since", "since must be a version number", httpx.FieldError{Field: "since", Message: "not a version number"}))
			return 0, 0, nil, false
		}
		if n > st.Version() {
			c.Error(httpx.Unprocessable("since_beyond_current", fmt.Sprintf("since (%d) is beyond the current version (%d)", n, st.Version()),
				httpx.FieldError{Field: "since", Message: fmt.Sprintf("at most %d, the current version", st.Version())}))
			return 0, 0, nil, false
		}
		since = n
	}
	limit, after, ok := pageParams(c)
	if !ok {
		return 0, 0, nil, false
	}
	if after != "" {
		p, valid := parseFeedPosition(after)
		if !valid {
			c.Error(httpx.Unprocessable("invalid_cursor", "cursor is not one this API returned", httpx.FieldError{Field: "cursor", Message: "invalid"}))
			return 0, 0, nil, false
		}
		pos = &p
	}
	return since, limit, pos, true
}

// feedCursor is the cursor of the page after next (null on the last page).
func feedCursor(next *store.FeedPosition) any {
	if next == nil {
		return nil
	}
	return cursor(fmt.Sprintf("%d.%d", next.Version, next.Seq))
}

// parseFeedPosition reads the "version.seq" of a change-feed cursor.
func parseFeedPosition(s string) (store.FeedPosition, bool) {
	v, seq, found := strings.Cut(s, ".")
	n, err1 := strconv.Atoi(v)
	k, err2 := strconv.Atoi(seq)
	if !found || err1 != nil || err2 != nil || n < 0 || k < 0 {
		return store.FeedPosition{}, false
	}
	return store.FeedPosition{Version: n, Seq: k}, true
}

// atomVersions is how many versions the Atom feed shows: a feed reader wants the news;
// a consumer that syncs follows the JSON feed.
const atomVersions = 50

// The Atom ids are tag URIs (RFC 4151) under the project's domain: stable whatever host
// or port serves the feed, and the same version always has the same id.
const atomIDPrefix = "tag:plateforme-rome.github.io,2026:referentiel/"

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomAuthor  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Links      []atomLink     `xml:"link"`
	Categories []atomCategory `xml:"category"`
	Summary    atomText       `xml:"summary"`
	Content    atomText       `xml:"content"`
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// changesAtom serves GET /v1/changes.atom: the last versions as an Atom 1.0 feed, one
// entry per version, in French. A separate URL rather than content negotiation on
// /v1/changes: feed readers are configured with a URL and send no useful Accept header.
func (h *handlers) changesAtom(c *gin.Context) {
	st, ok := h.state(c)
	if !ok || notModified(c, st) {
		return
	}
	vs, err := h.svc.RecentVersions(c.Request.Context(), st, atomVersions)
	if err != nil {
		c.Error(err)
		return
	}
	feed := atomFeed{Lang: "fr", ID: atomIDPrefix + "changes", Title: "Évolutions du référentiel ROME",
		Updated: atomTime(st.Snap.Version.LastModified), Author: atomAuthor{Name: "Plateforme du ROME"},
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: "/v1/changes.atom"}, {Rel: "alternate", Type: "application/json", Href: "/v1/changes"}}}
	for _, v := range vs {
		feed.Entries = append(feed.Entries, atomVersionEntry(st, v))
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(feed); err != nil {
		c.Error(err)
		return
	}
	c.Data(http.StatusOK, "application/atom+xml; charset=utf-8", buf.Bytes())
}

// atomVersionEntry words a version: its title names the fiches it changed (with their
// current libellé) and the request, its content lists the changes.
func atomVersionEntry(st *app.State, v app.FeedVersion) atomEntry {
	n := strconv.Itoa(v.Number)
	e := atomEntry{ID: atomIDPrefix + "versions/" + n, Updated: atomTime(v.PublishedAt), Published: atomTime(v.PublishedAt),
		Links: []atomLink{{Rel: "alternate", Type: "application/json", Href: "/v1/versions/" + n + "/changes"},
			{Rel: "enclosure", Type: "application/zip", Href: "/v1/versions/" + n + "/delta"}}}
	if v.Source == store.SourceImport {
		e.Title = fmt.Sprintf("Version %d : import de la publication officielle « %s »", v.Number, v.Label)
		e.Summary = atomText{Type: "text", Body: "Publication officielle de France Travail importée telle quelle."}
		e.Content = atomText{Type: "text", Body: e.Summary.Body}
		return e
	}
	var fiches []string
	seen := map[string]bool{}
	var lines []string
	for _, ch := range v.Changes {
		code := ch.Change.CodeRome
		if !seen[code] {
			seen[code] = true
			lib := st.Summary(code).Libelle
			fiches = append(fiches, fmt.Sprintf("%s « %s »", code, lib))
			e.Categories = append(e.Categories, atomCategory{Term: code, Label: lib})
		}
		lines = append(lines, code+" — "+describeChange(ch.Change))
	}
	origin := "lot de modifications " + deref(v.ChangesetID)
	switch r := deref(v.RequestID); {
	case v.ReleaseNumber != nil:
		origin = fmt.Sprintf("release %d", *v.ReleaseNumber)
		e.Links = append(e.Links, atomLink{Rel: "related", Type: "text/markdown", Href: fmt.Sprintf("/v1/releases/%d/notes", *v.ReleaseNumber)})
	case r != "":
		origin = "demande " + r
	}
	e.Title = fmt.Sprintf("Version %d : fiche %s, %s", v.Number, strings.Join(fiches, ", fiche "), origin)
	e.Summary = atomText{Type: "text", Body: fmt.Sprintf("%d modification(s) publiée(s) par la %s.", len(v.Changes), origin)}
	e.Content = atomText{Type: "text", Body: strings.Join(lines, "\n")}
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// French words of the changelog's actions and entities, for the Atom feed.
var (
	atomActions  = map[string]string{"added": "Ajout", "removed": "Retrait", "updated": "Modification", "moved": "Déplacement", "created": "Création"}
	atomEntities = map[string]string{"fiche": "fiche", "appellation": "appellation", "competence": "compétence", "savoir": "savoir",
		"contexte": "contexte de travail", "mobilite": "mobilité", "texte": "texte", "tags": "indicateur", "coeurMetier": "cœur de métier"}
)

// describeChange words one change: "Ajout · appellation 12345 « Libellé » (définition)".
func describeChange(ch changeset.Change) string {
	s := orWord(atomActions, ch.Action) + " · " + orWord(atomEntities, ch.Entity)
	if ch.CodeOgr != "" {
		s += " " + ch.CodeOgr
	}
	if ch.Libelle != "" {
		s += " « " + ch.Libelle + " »"
	}
	if ch.Field != "" {
		s += " (" + ch.Field + ")"
	}
	return s
}

func orWord(words map[string]string, key string) string {
	if w, ok := words[key]; ok {
		return w
	}
	return key
}

// versionDelta serves GET /v1/versions/{n}/delta: the zip of the rows version n opened
// and closed in each RefRomeCsv file, with its manifest (package delta). A version never
// changes once published: the ETag names it and a 304 costs no database read of rows.
func (h *handlers) versionDelta(c *gin.Context) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		c.Error(httpx.NotFound("version_not_found", "versions are numbers"))
		return
	}
	h.serveDelta(c, n)
}

// serveDelta serves the delta zip of version n.
func (h *handlers) serveDelta(c *gin.Context, n int) {
	ctx := c.Request.Context()
	d, ok, err := h.svc.DeltaFile(ctx, n)
	if err != nil {
		c.Error(err)
		return
	}
	if !ok {
		c.Error(httpx.NotFound("version_not_found", fmt.Sprintf("version %d does not exist", n)))
		return
	}
	c.Header("ETag", d.ETag())
	c.Header("Cache-Control", "public, max-age=86400")
	if ifNoneMatch(c, d.ETag()) {
		c.Status(http.StatusNotModified)
		return
	}
	// Built before answering, as the export is: a failure is an error, not a cut download.
	var buf bytes.Buffer
	if err := d.Write(ctx, &buf); err != nil {
		c.Error(err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="RefRomeCsv_delta_v4%02d.zip"`, n))
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
}

// ifNoneMatch tells whether the client already holds the resource tagged etag.
func ifNoneMatch(c *gin.Context, etag string) bool {
	match := c.GetHeader("If-None-Match")
	if match == "" {
		return false
	}
	for _, tag := range strings.Split(match, ",") {
		if t := strings.TrimSpace(tag); t == etag || t == "W/"+etag || t == "*" {
			return true
		}
	}
	return false
}

// provenance serves GET /v1/fiches/{code}/provenance[?version=N].
func (h *handlers) provenance(c *gin.Context) {
	st, ok := h.versioned(c)
	if !ok {
		return
	}
	if _, ok := lookupDoc(c, st, c.Param("code")); !ok {
		return
	}
	if notModified(c, st) {
		return
	}
	p, _, err := h.svc.Provenance(c.Request.Context(), st, c.Param("code"))
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, p)
}
