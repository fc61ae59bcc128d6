package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/intake/internal/directory"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
)

// The directory of issue #12's figure: 500 moderators and 5,000 partners in 50 organisations.
const (
	benchModerators    = 500
	benchPartners      = 5000
	benchOrganisations = 50
)

// BenchmarkPeopleForNotifications measures, on each database, the two listings the
// notifications service asks for when it resolves a notification's recipients: every active
// moderator (a submission's audience) and the active partners of one organisation (a
// request's partner side), each on one page. Each is served in process by the bare router
// (the token check and the JSON encoding included, the OpenAPI validation of the tests'
// router left out; one validated call checks the answer first), with a service token.
func BenchmarkPeopleForNotifications(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			var h *gin.Engine
			e := newEnvOn(b, d, func(deps *Deps) { h = Router(*deps) })
			fillDirectory(b, e)
			service := e.token(b, "service:notifications", auth.RoleService, "")
			for _, q := range []struct {
				name, path string
				want       int
			}{
				{"moderators", "/v1/people?role=moderator&active=true&limit=1000", benchModerators},
				{"partners of one organisation", "/v1/people?role=partner&org=org-07&active=true&limit=1000", benchPartners / benchOrganisations},
			} {
				b.Run(q.name, func(b *testing.B) {
					if n := len(wholePage(b, e.h, q.path, service).Items); n != q.want {
						b.Fatalf("%s: %d people, want %d", q.path, n, q.want)
					}
					var took []time.Duration
					for b.Loop() {
						start := time.Now()
						w := getPeople(h, q.path, service)
						took = append(took, time.Since(start))
						if w.Code != http.StatusOK {
							b.Fatalf("%s: %d %s", q.path, w.Code, w.Body)
						}
					}
					reportLatency(b, took)
				})
			}
		})
	}
}

// fillDirectory adds the organisations, then the moderators and partners (spread evenly over
// the organisations) to e's directory through its store, for speed.
func fillDirectory(b *testing.B, e *env) {
	start := time.Now()
	for i := range benchOrganisations {
		if _, _, err := e.dir.CreateOrganisation(b.Context(), directory.NewOrganisation{ID: fmt.Sprintf("org-%02d", i),
			Name: fmt.Sprintf("Organisation %02d", i), Kind: directory.KindOPCO, Domains: []string{"M"}}); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	add := func(sub, role, org string) {
		p := store.Person{Sub: sub, EntraID: "entra-" + sub, Name: "Personne " + sub, Email: sub + "@example.org", Role: role, Org: org,
			Active: true, Source: directory.SourceAdmin, CreatedAt: now, UpdatedAt: now}
		if err := e.store.InsertPerson(b.Context(), p); err != nil {
			b.Fatal(err)
		}
	}
	for i := range benchModerators {
		add(fmt.Sprintf("mod-%04d", i), string(auth.RoleModerator), "")
	}
	for i := range benchPartners {
		add(fmt.Sprintf("partner-%05d", i), string(auth.RolePartner), fmt.Sprintf("org-%02d", i%benchOrganisations))
	}
	b.Logf("directory filled in %v", time.Since(start))
}

// getPeople answers GET path through h with token.
func getPeople(h http.Handler, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// wholePage is the page GET path answers through h with token; it must be a whole one.
func wholePage(b *testing.B, h http.Handler, path, token string) directory.PeoplePage {
	w := getPeople(h, path, token)
	var page directory.PeoplePage
	if w.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", path, w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || page.NextCursor != "" {
		b.Fatalf("%s: not one whole page (%v): %.200s", path, err, w.Body)
	}
	return page
}

// reportLatency reports the median and 95th percentile of took, in milliseconds.
func reportLatency(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))]) / 1e6 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}
