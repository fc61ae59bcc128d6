package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/reftest"
)

// releaseSize is the number of change sets of the release the consumers' reads are
// measured on (issue #10: "a release of 500 change sets").
const releaseSize = 500

// BenchmarkReleaseOf500 publishes, on each database, a release of 500 change sets (one per
// fiche, PUBLICATION_MODE=release_trains), then measures what a consumer asks of it,
// through the router in process (no network): the change feed since v460 read page by
// page (GET /v1/changes?since=60, the default page and the largest; p50 and p99 of the
// pages) and the release's delta zip (GET /v1/releases/1/delta, built on every call).
func BenchmarkReleaseOf500(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			srv := reftest.StartWith(b, d, app.Config{Publication: refclient.PublicationReleaseTrains})
			publishRelease(b, srv, releaseSize)
			for _, limit := range []int{50, 200} {
				b.Run(fmt.Sprintf("changes since 60, limit %d", limit), func(b *testing.B) { benchChangeFeed(b, srv.Config.Handler, limit) })
			}
			b.Run("release delta", func(b *testing.B) {
				size := 0
				for b.Loop() {
					w := serve(b, srv.Config.Handler, http.MethodGet, "/v1/releases/1/delta", "", nil)
					size = w.Body.Len()
				}
				b.ReportMetric(float64(size)/1e6, "MB")
			})
		})
	}
}

// benchChangeFeed reads the whole change feed since v460 as a syncing consumer does, a
// page of limit changes at a time until nextCursor is null, and reports the latency of
// the pages.
func benchChangeFeed(b *testing.B, h http.Handler, limit int) {
	var pages []time.Duration
	changes := 0
	for b.Loop() {
		changes = 0
		for path := fmt.Sprintf("/v1/changes?since=60&limit=%d", limit); path != ""; {
			start := time.Now()
			w := serve(b, h, http.MethodGet, path, "", nil)
			pages = append(pages, time.Since(start))
			var page struct {
				Items      []json.RawMessage
				NextCursor *string
			}
			if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
				b.Fatal(err)
			}
			changes += len(page.Items)
			path = ""
			if page.NextCursor != nil {
				path = fmt.Sprintf("/v1/changes?since=60&limit=%d&cursor=%s", limit, *page.NextCursor)
			}
		}
	}
	slices.Sort(pages)
	at := func(q float64) float64 { return float64(pages[int(q*float64(len(pages)-1))]) / 1e6 }
	b.ReportMetric(at(0.50), "p50-ms/page")
	b.ReportMetric(at(0.99), "p99-ms/page")
	b.ReportMetric(float64(changes), "changes")
}

// publishRelease stages n change sets, one per fiche (the first n in code order: a new
// appellation and a new definition each), then freezes, validates and publishes release 1,
// logging how long each step took.
func publishRelease(b *testing.B, srv *reftest.Server, n int) {
	h, service := srv.Config.Handler, srv.Token(b, auth.RoleService)
	var metiers []struct{ Code string }
	if err := json.Unmarshal(serve(b, h, http.MethodGet, "/rome-metiers/v1/metiers/metier?champs=code", "", nil).Body.Bytes(), &metiers); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i, m := range metiers[:n] {
		cs := map[string]any{"id": fmt.Sprintf("cs-bench-%d", i), "requestId": fmt.Sprintf("req-bench-%d", i), "requestTitle": "Banc d'essai",
			"baseVersion": 60, "codeRome": m.Code, "operations": []any{
				map[string]any{"op": "add_appellation", "libelle": fmt.Sprintf("Appellation d'essai n° %d", i)},
				map[string]any{"op": "set_text", "field": "definition", "text": fmt.Sprintf("Définition révisée n° %d.\nElle tient en deux phrases.", i)},
			}}
		if w := serve(b, h, http.MethodPost, "/v1/changesets", service, cs); w.Code != http.StatusAccepted {
			b.Fatalf("staging %s: %d %s", m.Code, w.Code, w.Body)
		}
	}
	b.Logf("%d change sets staged in %v", n, time.Since(start))
	for _, step := range []string{"next:freeze", "1:validate", "1:publish"} {
		start := time.Now()
		w := serve(b, h, http.MethodPost, "/v1/releases/"+step, service, nil)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", step, w.Code, w.Body)
		}
		b.Logf("release 1, %s: %v", step, time.Since(start))
	}
	var rel refclient.Release
	if err := json.Unmarshal(serve(b, h, http.MethodGet, "/v1/releases/1", "", nil).Body.Bytes(), &rel); err != nil {
		b.Fatal(err)
	}
	included := 0
	for _, cs := range rel.ChangeSets {
		if cs.Status == refclient.StagedIncluded {
			included++
		}
	}
	if rel.Version == nil || included != n {
		b.Fatalf("release 1 published %d of %d change sets (version %v)", included, n, rel.Version)
	}
}

// serve answers one request through the router, in process.
func serve(b *testing.B, h http.Handler, method, path, token string, body any) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			b.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}
