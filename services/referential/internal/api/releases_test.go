package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/reftest"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook/webhooktest"
)

func init() {
	// Release notes are text to the OpenAPI validator.
	openapi3filter.RegisterBodyDecoder("text/markdown", openapi3filter.FileBodyDecoder)
}

// releases is the answer of GET /v1/releases.
type releases struct{ Items []refclient.Release }

// decode reads a JSON answer into a T.
func decode[T any](t *testing.T, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("not a %T (%d): %s", v, r.status, r.body)
	}
	return v
}

func expectProblem(t *testing.T, r resp, status int, code string) {
	t.Helper()
	expect(t, r, status)
	if got := problemCode(t, r); got != code {
		t.Errorf("code %q, want %q: %s", got, code, r.body)
	}
}

// Under immediate publication, nothing of the release trains applies: the steps and the
// next release answer 409 release_trains_off, the list of releases is empty.
func TestReleaseRoutesNeedReleaseTrains(t *testing.T) {
	t.Parallel()
	e := newEnv(t, database.SQLite)
	service, partner := e.token(auth.RoleService), e.token(auth.RolePartner)
	for _, r := range []resp{
		e.do("GET", "/v1/releases/next", partner, nil),
		e.do("GET", "/v1/fiches/M1805?version=next", partner, nil),
		e.do("POST", "/v1/releases/next:freeze", service, nil),
		e.do("POST", "/v1/releases/1:validate", service, nil),
		e.do("POST", "/v1/releases/1:publish", service, nil),
	} {
		expectProblem(t, r, 409, "release_trains_off")
	}
	expectProblem(t, e.get("/v1/fiches/M1805?version=next"), 401, "sign_in_required")
	if rs := decode[releases](t, e.do("GET", "/v1/releases", partner, nil)); len(rs.Items) != 0 {
		t.Errorf("releases %+v", rs.Items)
	}
	expectProblem(t, e.get("/v1/releases/1"), 404, "release_not_found")
	// A change set is still published at once.
	r := e.do("POST", "/v1/changesets", service, map[string]any{"id": "cs-now", "requestId": "req-now", "baseVersion": 60, "codeRome": "M1805",
		"operations": []any{map[string]any{"op": "set_tags", "emploiCadre": false}}})
	if expect(t, r, 201); decode[refclient.Publication](t, r).Version != 61 {
		t.Errorf("immediate publication %s", r.body)
	}
}

func TestReleaseTrains(t *testing.T) {
	t.Parallel()
	for _, d := range []database.Dialect{database.SQLite, database.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnvOn(t, reftest.StartWith(t, d, app.Config{Publication: refclient.PublicationReleaseTrains}))
			releaseScenario(t, e)
		})
	}
}

// releaseScenario: two accepted change sets on the same fiche, the second one conflicting
// with the first, and a new fiche, staged in release 1; a change set staged while release 1
// is cut goes to release 2, which nothing in applies once release 1 is published.
func releaseScenario(t *testing.T, e *env) {
	service, partner, admin := e.token(auth.RoleService), e.token(auth.RolePartner), e.token(auth.RoleAdmin)
	var synonym, synonymLabel string
	for _, a := range e.get("/v1/fiches/M1805").json(t)["appellations"].([]any) {
		if a := a.(map[string]any); a["classification"] != "PRINCIPALE" {
			synonym, synonymLabel = a["codeOgr"].(string), a["libelle"].(string)
			break
		}
	}
	remove := map[string]any{"id": "cs-rel-a", "requestId": "req-a", "requestTitle": "Retirer une appellation", "baseVersion": 60, "codeRome": "M1805",
		"operations": []any{map[string]any{"op": "remove_appellation", "codeOgr": synonym, "reason": "Plus employée"}}}
	rename := map[string]any{"id": "cs-rel-b", "requestId": "req-b", "requestTitle": "Renommer la même appellation", "baseVersion": 60, "codeRome": "M1805",
		"operations": []any{map[string]any{"op": "update_appellation", "codeOgr": synonym, "libelle": "Développeur / Développeuse de logiciels libres"}}}
	create := map[string]any{"id": "cs-rel-c", "requestId": "req-c", "requestTitle": "Créer la fiche Rust", "baseVersion": 60, "operations": []any{
		map[string]any{"op": "create_fiche", "domaineProfessionnel": "M18", "definition": "Conçoit des applications en Rust.",
			"accesEmploi": "Bac+5.", "appellationPrincipale": map[string]any{"libelle": "Développeur / Développeuse Rust"}}}}

	t.Run("the next release is for signed-in callers", func(t *testing.T) {
		expectProblem(t, e.get("/v1/fiches/M1805?version=next"), 401, "sign_in_required")
		expect(t, e.get("/v1/releases/next"), 401)
		expectProblem(t, e.do("POST", "/v1/releases/next:freeze", service, nil), 409, "release_empty")
		expect(t, e.do("POST", "/v1/releases/next:freeze", partner, nil), 403)
	})

	var staged refclient.Publication
	t.Run("accepted change sets are staged, not published", func(t *testing.T) {
		r := e.do("POST", "/v1/changesets", service, remove)
		expect(t, r, 202)
		staged = decode[refclient.Publication](t, r)
		if !staged.Staged() || staged.Release != 1 || staged.Version != 0 || staged.CodeRome != "M1805" || r.header.Get("Location") != "/v1/changesets/cs-rel-a" {
			t.Fatalf("staged %s", r.body)
		}
		again := e.do("POST", "/v1/changesets", service, remove)
		if expect(t, again, 202); !bytes.Equal(again.body, r.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the same change set again: %s", again.body)
		}
		other := map[string]any{"id": "cs-rel-a", "requestId": "req-a", "baseVersion": 60, "codeRome": "M1805",
			"operations": []any{map[string]any{"op": "set_tags", "emploiCadre": true}}}
		expectProblem(t, e.do("POST", "/v1/changesets", service, other), 422, "changeset_id_reused")
		unknown := map[string]any{"id": "cs-rel-x", "requestId": "req-x", "baseVersion": 60, "codeRome": "M1805",
			"operations": []any{map[string]any{"op": "remove_competence", "codeOgr": "999999"}}}
		expectProblem(t, e.do("POST", "/v1/changesets", service, unknown), 409, "changeset_conflict")
		// Staging does not weigh the change sets staged before: the release's validation does.
		expect(t, e.do("POST", "/v1/changesets", service, rename), 202)
		c := e.do("POST", "/v1/changesets", service, create)
		if expect(t, c, 202); decode[refclient.Publication](t, c).CodeRome != "" {
			t.Errorf("a new fiche's code is given at release: %s", c.body)
		}
		if got := decode[refclient.Publication](t, e.get("/v1/changesets/cs-rel-a")); got.Version != 0 || got.Release != 1 {
			t.Errorf("GET of a staged change set %+v", got)
		}
		if v := e.get("/v1/version").json(t); v["version"] != float64(60) {
			t.Errorf("staging published version %v", v["version"])
		}
		if !hasAppellation(e.get("/v1/fiches/M1805").json(t), synonym) {
			t.Error("staging changed the current version")
		}
	})

	var nextETag string
	t.Run("the next release shows what the staged change sets do together", func(t *testing.T) {
		cur := e.get("/v1/fiches/M1805")
		r := e.do("GET", "/v1/fiches/M1805?version=next", partner, nil)
		expect(t, r, 200)
		next := r.json(t)
		if hasAppellation(next, synonym) || next["version"] != float64(61) {
			t.Errorf("next: version %v, still has %s", next["version"], synonym)
		}
		etag := r.header.Get("ETag")
		nextETag = etag
		if etag == "" || etag == cur.header.Get("ETag") || r.header.Get("Cache-Control") != "private, no-cache" {
			t.Errorf("next's ETag %q (current %q), Cache-Control %q", etag, cur.header.Get("ETag"), r.header.Get("Cache-Control"))
		}
		expect(t, e.do("GET", "/v1/fiches/M1805?version=next", partner, nil, "If-None-Match", etag), 304)
		list := e.do("GET", "/v1/fiches?version=next&domaineProfessionnel=M18&q=rust", partner, nil).json(t)["items"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["libelle"] != "Développeur / Développeuse Rust" {
			t.Errorf("the new fiche in the next release: %v", list)
		}
		expect(t, e.do("GET", "/v1/export?version=next", partner, nil), 200)
		if s := e.do("GET", "/v1/stats?version=next", partner, nil).json(t); s["fiches"] != float64(1585) {
			t.Errorf("next stats %v", s["fiches"])
		}
		p := decode[refclient.Provenance](t, e.do("GET", "/v1/fiches/M1805/provenance?version=next", partner, nil))
		if p.Version != 61 || len(p.Elements) == 0 {
			t.Errorf("next provenance %+v", p)
		}
		for _, el := range p.Elements {
			if el.Kind == "appellation" && el.CodeOgr == synonym {
				t.Errorf("the next provenance lists the appellation removed: %+v", el)
			}
		}
		rust := decode[refclient.Provenance](t, e.do("GET", "/v1/fiches/"+newFiche(t, e, partner)+"/provenance?version=next", partner, nil))
		if o := rust.Elements[0].Introduced; o.Version != 61 || o.Source != "release" || o.ChangesetID != "cs-rel-c" || o.RequestID != "req-c" {
			t.Errorf("the new fiche's origin in the next release: %+v", o)
		}
	})

	t.Run("releases before the cut", func(t *testing.T) {
		next := decode[refclient.Release](t, e.do("GET", "/v1/releases/next", partner, nil))
		if next.Number != 1 || next.Status != refclient.ReleaseOpen || len(next.ChangeSets) != 3 || next.ChangeSets[1].RequestTitle != "Renommer la même appellation" {
			t.Fatalf("next release %+v", next)
		}
		if all := decode[releases](t, e.get("/v1/releases")); len(all.Items) != 0 {
			t.Errorf("anonymous callers see an unpublished release: %+v", all)
		}
		if all := decode[releases](t, e.do("GET", "/v1/releases", partner, nil)); len(all.Items) != 1 {
			t.Errorf("signed-in callers see %+v", all)
		}
		expectProblem(t, e.get("/v1/releases/1"), 404, "release_not_found")
		expectProblem(t, e.get("/v1/releases/1/notes"), 404, "release_not_found")
		expectProblem(t, e.get("/v1/releases/1/delta"), 404, "release_not_found")
		expectProblem(t, e.do("POST", "/v1/releases/1:validate", service, nil), 409, "release_not_frozen")
		expectProblem(t, e.do("POST", "/v1/releases/1:publish", service, nil), 409, "release_not_frozen")
	})

	// The renaming staged in release 2 applies to version 60, not once release 1 removed
	// the appellation: release 2 publishes nothing.
	late := map[string]any{"id": "cs-rel-d", "requestId": "req-d", "requestTitle": "Renommer encore", "baseVersion": 60, "codeRome": "M1805",
		"operations": []any{map[string]any{"op": "update_appellation", "codeOgr": synonym, "libelle": "Développeur / Développeuse open source"}}}
	t.Run("freeze", func(t *testing.T) {
		r := e.do("POST", "/v1/releases/next:freeze", service, nil)
		expect(t, r, 200)
		frozen := decode[refclient.Release](t, r)
		if frozen.Number != 1 || frozen.Status != refclient.ReleaseFrozen || frozen.FrozenAt == nil {
			t.Fatalf("frozen %+v", frozen)
		}
		again := e.do("POST", "/v1/releases/next:freeze", service, nil)
		if expect(t, again, 200); !bytes.Equal(again.body, r.body) {
			t.Errorf("freezing again: %s", again.body)
		}
		if next := decode[refclient.Release](t, e.do("GET", "/v1/releases/next", service, nil)); next.Number != 2 || next.Status != refclient.ReleaseOpen {
			t.Errorf("the release open after the freeze: %+v", next)
		}
		d := e.do("POST", "/v1/changesets", service, late)
		if expect(t, d, 202); decode[refclient.Publication](t, d).Release != 2 {
			t.Errorf("staged after the freeze: %s", d.body)
		}
		if etag := e.do("GET", "/v1/fiches/M1805?version=next", partner, nil).header.Get("ETag"); etag == nextETag {
			t.Errorf("the next release's ETag %q did not move with a change set staged", etag)
		}
	})

	t.Run("validate", func(t *testing.T) {
		r := e.do("POST", "/v1/releases/1:validate", service, nil)
		expect(t, r, 200)
		rel := decode[refclient.Release](t, r)
		statuses := []string{}
		for _, cs := range rel.ChangeSets {
			statuses = append(statuses, cs.ID+" "+cs.Status)
		}
		if want := []string{"cs-rel-a included", "cs-rel-b returned", "cs-rel-c included"}; !slices.Equal(statuses, want) {
			t.Fatalf("validated %q, want %q", statuses, want)
		}
		returned := rel.ChangeSets[1].Results
		if len(returned) != 1 || returned[0].Applies || !strings.Contains(returned[0].Reason, "cs-rel-a") ||
			!strings.Contains(returned[0].Reason, "req-a") || !strings.Contains(returned[0].Reason, "Retirer une appellation") {
			t.Errorf("the returned change set's results do not name the one it conflicts with: %+v", returned)
		}
		if rel.ChangeSets[2].CodeRome != "" {
			t.Errorf("a new fiche has no code before its release is published: %+v", rel.ChangeSets[2])
		}
		again := e.do("POST", "/v1/releases/1:validate", service, nil)
		if expect(t, again, 200); !bytes.Equal(again.body, r.body) {
			t.Errorf("validating again:\n%s\nfirst:\n%s", again.body, r.body)
		}
		expectProblem(t, e.do("POST", "/v1/releases/2:validate", service, nil), 409, "release_not_frozen")
		expectProblem(t, e.do("POST", "/v1/releases/9:validate", service, nil), 404, "release_not_found")
		expectProblem(t, e.do("POST", "/v1/releases/one:validate", service, nil), 404, "release_not_found")
		expectProblem(t, e.do("POST", "/v1/releases/1:bless", service, nil), 404, "route_not_found")
		expect(t, e.do("POST", "/v1/releases/1:validate", partner, nil), 403)
	})

	rx := webhooktest.New(t)
	reg := e.do("POST", "/v1/webhooks", admin, map[string]any{"url": rx.URL(), "events": []string{"version.published", "release.published"}})
	expect(t, reg, 201)
	rx.Trust(reg.json(t)["secret"].(string))

	var newCode string
	t.Run("publish", func(t *testing.T) {
		r := e.do("POST", "/v1/releases/1:publish", service, nil)
		expect(t, r, 200)
		rel := decode[refclient.Release](t, r)
		if rel.Status != refclient.ReleasePublished || rel.Version == nil || *rel.Version != 61 || rel.PublishedAt == nil {
			t.Fatalf("published %+v", rel)
		}
		again := e.do("POST", "/v1/releases/1:publish", service, nil)
		if expect(t, again, 200); !bytes.Equal(again.body, r.body) {
			t.Errorf("publishing again: %s", again.body)
		}
		// A second run of the release workflow validates after the first published: it
		// gets the release as published, so that it ends cleanly.
		late := e.do("POST", "/v1/releases/1:validate", service, nil)
		if expect(t, late, 200); !bytes.Equal(late.body, r.body) {
			t.Errorf("validating a published release: %s", late.body)
		}
		vs := e.get("/v1/versions").json(t)["items"].([]any)
		last := vs[len(vs)-1].(map[string]any)
		if len(vs) != 2 || last["source"] != "release" || last["release"] != float64(1) || !strings.HasSuffix(last["label"].(string), " + release 1") {
			t.Fatalf("versions %v", vs)
		}
		a := decode[refclient.Publication](t, e.get("/v1/changesets/cs-rel-a"))
		c := decode[refclient.Publication](t, e.get("/v1/changesets/cs-rel-c"))
		newCode = c.CodeRome
		if a.Version != 61 || a.Release != 1 || c.Version != 61 || !strings.HasPrefix(newCode, "M18") || len(c.Changes) == 0 {
			t.Fatalf("the published change sets: %+v %+v", a, c)
		}
		if rel.ChangeSets[2].CodeRome != newCode {
			t.Errorf("the release names the new fiche %q, its change set %q", rel.ChangeSets[2].CodeRome, newCode)
		}
		if b := decode[refclient.Publication](t, e.get("/v1/changesets/cs-rel-b")); b.Version != 0 || b.Release != 1 {
			t.Errorf("the returned change set was published: %+v", b)
		}
		f := e.get("/v1/fiches/M1805").json(t)
		if hasAppellation(f, synonym) || f["version"] != float64(61) {
			t.Errorf("version 61 still has %s", synonym)
		}
		expect(t, e.get("/v1/fiches/"+newCode), 200)
		p := decode[refclient.Provenance](t, e.get("/v1/fiches/"+newCode+"/provenance"))
		if o := p.Elements[0].Introduced; o.Version != 61 || o.Source != "release" || o.ChangesetID != "cs-rel-c" || o.RequestID != "req-c" {
			t.Errorf("the new fiche's origin: %+v", o)
		}
	})

	t.Run("the change feed names each change's own request", func(t *testing.T) {
		items := decode[feedPage](t, e.get("/v1/changes?since=60")).Items
		byRequest := map[string]string{}
		for _, it := range items {
			if it.Version != 61 {
				t.Errorf("a change of version %d", it.Version)
			}
			byRequest[it.ChangesetID+" "+it.RequestID] += it.CodeRome + " "
		}
		if len(byRequest) != 2 || !strings.Contains(byRequest["cs-rel-a req-a"], "M1805") || !strings.Contains(byRequest["cs-rel-c req-c"], newCode) {
			t.Errorf("feed of release 1 by change set: %v", byRequest)
		}
		h := e.get("/v1/fiches/M1805/history").json(t)["items"].([]any)
		if last := h[len(h)-1].(map[string]any); last["changesetId"] != "cs-rel-a" || last["requestId"] != "req-a" {
			t.Errorf("history %v", last)
		}
	})

	t.Run("notes and delta", func(t *testing.T) {
		r := e.get("/v1/releases/1/notes")
		expect(t, r, 200)
		notes := string(r.body)
		for _, want := range []string{"# Version 61 — release 1 du ROME", "2 demandes publiées, 2 fiches modifiées ; 1 demande renvoyée aux modérateurs.",
			"## M1805 — ", "Appellation retirée : « " + synonymLabel + " » (code OGR " + synonym + "), motif : Plus employée — demande req-a « Retirer une appellation »",
			"## " + newCode + " — Développeur / Développeuse Rust", "Fiche créée : « Développeur / Développeuse Rust »",
			"## Demandes renvoyées aux modérateurs", "- demande req-b « Renommer la même appellation » : conflicts with change set cs-rel-a"} {
			if !strings.Contains(notes, want) {
				t.Errorf("the notes lack %q:\n%s", want, notes)
			}
		}
		if ct := r.header.Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
			t.Errorf("notes served as %q", ct)
		}
		if rel := decode[refclient.Release](t, e.get("/v1/releases/1")); rel.Notes != notes {
			t.Error("the release's notes differ from /notes")
		}
		d := e.get("/v1/releases/1/delta")
		if expect(t, d, 200); !bytes.Equal(d.body, e.get("/v1/versions/61/delta").body) {
			t.Error("the release's delta is not its version's")
		}
		expectProblem(t, e.get("/v1/releases/2/notes"), 404, "release_not_found")
	})

	t.Run("release.published goes through the outbox once", func(t *testing.T) {
		hooks := app.NewWebhooks(e.srv.Store, app.WebhookConfig{Now: func() time.Time { return time.Now().Add(time.Minute) }, AllowPrivate: true,
			Timeout: 5 * time.Second, Log: slog.New(slog.DiscardHandler)})
		for range 2 {
			if _, err := hooks.DeliverDue(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := events(rx.Delivered()), []string{"version.published 61 ", "release.published 61 "}; !slices.Equal(got, want) {
			t.Fatalf("delivered %q, want %q", got, want)
		}
		var body struct {
			Data webhook.ReleaseData
		}
		if err := json.Unmarshal(rx.Delivered()[1].Body, &body); err != nil {
			t.Fatal(err)
		}
		if d := body.Data; d.Release != 1 || d.Links["notes"] != "/v1/releases/1/notes" || len(d.ChangeSets) != 3 || d.ChangeSets[1].Status != "returned" {
			t.Errorf("release.published %+v", d)
		}
	})

	t.Run("a release in which nothing applies publishes no version", func(t *testing.T) {
		expect(t, e.do("POST", "/v1/releases/next:freeze", service, nil), 200)
		r := e.do("POST", "/v1/releases/2:validate", service, nil)
		expect(t, r, 200)
		rel := decode[refclient.Release](t, r)
		if cs := rel.ChangeSets[0]; cs.Status != refclient.StagedReturned || !strings.Contains(cs.Results[0].Reason, "does not apply to version 61, even alone") {
			t.Fatalf("release 2 validated: %+v", rel.ChangeSets)
		}
		p := e.do("POST", "/v1/releases/2:publish", service, nil)
		expect(t, p, 200)
		if rel := decode[refclient.Release](t, p); rel.Status != refclient.ReleasePublished || rel.Version != nil ||
			!strings.Contains(rel.Notes, "aucune version publiée") || !strings.Contains(rel.Notes, "req-d") {
			t.Errorf("release 2 published %+v", rel)
		}
		if v := e.get("/v1/version").json(t); v["version"] != float64(61) {
			t.Errorf("an empty release made version %v", v["version"])
		}
		expectProblem(t, e.get("/v1/releases/2/delta"), 404, "version_not_found")
		if all := decode[releases](t, e.get("/v1/releases")); len(all.Items) != 2 || all.Items[0].Number != 2 {
			t.Errorf("published releases, newest first: %+v", all.Items)
		}
	})
}

// newFiche is the code the next release gives the fiche Développeur / Développeuse Rust.
func newFiche(t *testing.T, e *env, token string) string {
	t.Helper()
	items := e.do("GET", "/v1/fiches?version=next&q=rust&domaineProfessionnel=M18", token, nil).json(t)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("the next release's fiches Rust: %v", items)
	}
	return items[0].(map[string]any)["codeRome"].(string)
}

func hasAppellation(fiche map[string]any, ogr string) bool {
	for _, a := range fiche["appellations"].([]any) {
		if a.(map[string]any)["codeOgr"] == ogr {
			return true
		}
	}
	return false
}
