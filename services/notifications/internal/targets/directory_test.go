package targets

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/plateforme-rome/rome/services/notifications/internal/app"
)

// TestDirectoryPagesAndFilters: every page of every query is read; people of a deactivated
// organisation are left out; subjects are asked for in chunks.
func TestDirectoryPagesAndFilters(t *testing.T) {
	var queries []string
	intake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Path != "/v1/people" || q.Get("active") != "true" || q.Get("limit") != "1000" {
			http.Error(w, "unexpected query", http.StatusBadRequest)
			return
		}
		type person struct {
			Sub       string `json:"sub"`
			Role      string `json:"role"`
			Org       string `json:"org,omitempty"`
			Email     string `json:"email"`
			OrgActive bool   `json:"orgActive"`
		}
		var page struct {
			Items      []person `json:"items"`
			NextCursor string   `json:"nextCursor,omitempty"`
		}
		switch {
		case q.Get("role") == "moderator" && q.Get("cursor") == "":
			page.Items, page.NextCursor = []person{{Sub: "m1", Role: "moderator", Email: "m1@ft.fr", OrgActive: true}}, "m1"
		case q.Get("role") == "moderator":
			page.Items = []person{{Sub: "m2", Role: "moderator", OrgActive: true}}
		case q.Get("role") == "partner":
			page.Items = []person{{Sub: "p1", Role: "partner", Org: "opco-a", OrgActive: true}, {Sub: "p2", Role: "partner", Org: "opco-z"}}
		default:
			for _, sub := range q["sub"] {
				page.Items = append(page.Items, person{Sub: sub, Role: "partner", Org: "opco-a", OrgActive: true})
			}
		}
		_ = json.NewEncoder(w).Encode(page)
	}))
	defer intake.Close()

	var subs []string
	for i := range 30 {
		subs = append(subs, fmt.Sprintf("s%02d", i))
	}
	people, err := NewDirectory(intake.URL+"/", http.DefaultClient).ActivePeople(t.Context(),
		app.PeopleQuery{Roles: []string{"moderator"}, Orgs: []string{"opco-a", "opco-z"}, Subs: subs})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range people {
		got = append(got, p.Sub)
	}
	want := append([]string{"m1", "m2", "p1"}, subs...)
	if !slices.Equal(got, want) || people[0].Email != "m1@ft.fr" {
		t.Fatalf("people %v, want %v", got, want)
	}
	if len(queries) != 5 {
		t.Fatalf("queries %v: want two pages of moderators, the partners, two chunks of subjects", queries)
	}
}
