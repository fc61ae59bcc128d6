package api_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/services/referential/internal/delta"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook/webhooktest"
)

// v460Facts are what the impact of changes to M1805 should report, read from the
// official files rather than through the service.
type v460Facts struct {
	mobilitesTo []string // fiches with a mobilité to M1805, sorted
	synonyms    []string // M1805's synonym appellations
	lonely      string   // a compétence on M1805 alone
	shared      string   // a compétence on M1805 and on some fiche with a mobilité to it
	sharers     []string // the fiches with a mobilité to M1805 that carry shared, sorted
}

func m1805Facts(t *testing.T) v460Facts {
	snap := romedata.V460(t)
	var f v460Facts
	m := romecsv.MustByName(romecsv.Mobilite)
	for _, r := range snap.T(romecsv.Mobilite).Rows() {
		if r.Cols[m.Col("code_rome_cible")] == "M1805" {
			f.mobilitesTo = append(f.mobilitesTo, r.Cols[m.Col("code_rome")])
		}
	}
	sort.Strings(f.mobilitesTo)
	a := romecsv.MustByName(romecsv.Appellation)
	for _, r := range snap.ForRome(romecsv.Appellation, "M1805") {
		if r[a.Col("classification")] != romecsv.ClassificationPrincipale {
			f.synonyms = append(f.synonyms, r[a.Col("code_ogr")])
		}
	}
	l := romecsv.MustByName(romecsv.Lien)
	carriers := map[string][]string{}
	for _, r := range snap.T(romecsv.Lien).Rows() {
		if r.Cols[l.Col("code_compo_bloc")] == romecsv.BlocCompetences {
			carriers[r.Cols[l.Col("code_ogr")]] = append(carriers[r.Cols[l.Col("code_ogr")]], r.Cols[l.Col("code_rome")])
		}
	}
	for _, r := range snap.ForRome(romecsv.Lien, "M1805") {
		ogr := r[l.Col("code_ogr")]
		if r[l.Col("code_rubrique")] != romecsv.RubriqueSavoirFaire || !isCompetence(snap, ogr) {
			continue
		}
		var sharers []string
		for _, code := range carriers[ogr] {
			if slices.Contains(f.mobilitesTo, code) {
				sharers = append(sharers, code)
			}
		}
		switch {
		case len(carriers[ogr]) == 1 && f.lonely == "":
			f.lonely = ogr
		case len(sharers) > 0 && f.shared == "":
			sort.Strings(sharers)
			f.shared, f.sharers = ogr, sharers
		}
	}
	if len(f.mobilitesTo) == 0 || len(f.synonyms) < 3 || f.lonely == "" || f.shared == "" {
		t.Fatalf("v460 no longer has what this test needs: %+v", f)
	}
	return f
}

func isCompetence(snap *refdata.Snapshot, ogr string) bool {
	_, ok := snap.Get(romecsv.Competence, ogr)
	return ok
}

// validation dry-runs operations on M1805 and returns the result of each.
func validation(t *testing.T, e *env, ops ...map[string]any) []refclient.Result {
	t.Helper()
	r := e.do("POST", "/v1/changesets:validate?documents=false", e.token(auth.RoleService), map[string]any{"codeRome": "M1805", "operations": ops})
	expect(t, r, 200)
	var v refclient.Validation
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Results
}

func sources(ms []refclient.MobiliteImpact) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.CodeRome)
	}
	sort.Strings(out)
	return out
}

func codes(refs []refclient.ImpactRef) []string {
	out := []string{}
	for _, r := range refs {
		out = append(out, r.CodeOgr)
	}
	return out
}

func TestImpactAndCorrespondences(t *testing.T) {
	t.Parallel()
	facts := m1805Facts(t)
	for _, d := range []database.Dialect{database.SQLite, database.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			admin := e.token(auth.RoleAdmin)
			rx := webhooktest.New(t)
			for _, ep := range []map[string]any{
				{"url": rx.URL(), "events": []string{"fiche.changed"}, "codesRome": []string{"M1805"}},
				{"url": rx.URL(), "events": []string{"version.published"}},                             // every fiche
				{"url": rx.URL(), "events": []string{"fiche.changed"}, "codesRome": []string{"A1101"}}, // another fiche
			} {
				expect(t, e.do("POST", "/v1/webhooks", admin, ep), 201)
			}
			x, y, z := facts.synonyms[0], facts.synonyms[1], facts.synonyms[2]

			t.Run("dry run", func(t *testing.T) {
				rs := validation(t, e,
					map[string]any{"op": "remove_appellation", "codeOgr": x, "reason": "obsolète"},
					map[string]any{"op": "remove_appellation", "codeOgr": y, "replacedBy": z},
					map[string]any{"op": "remove_competence", "codeOgr": facts.lonely},
					map[string]any{"op": "remove_competence", "codeOgr": facts.shared},
					map[string]any{"op": "set_tags", "emploiCadre": false},
					map[string]any{"op": "remove_appellation", "codeOgr": "1", "reason": "inconnue"})
				unreplaced, replaced, lonely, shared, tags, refused := rs[0].Impact, rs[1].Impact, rs[2].Impact, rs[3].Impact, rs[4].Impact, rs[5].Impact
				if unreplaced == nil || replaced == nil || lonely == nil || shared == nil {
					t.Fatalf("removals without an impact: %+v", rs)
				}
				if tags != nil || refused != nil {
					t.Errorf("impact of set_tags %+v, of a refused removal %+v: want none", tags, refused)
				}
				for _, im := range []*refclient.Impact{unreplaced, replaced, lonely, shared} {
					if !slices.Equal(im.Fiches, []string{"M1805"}) || im.Subscribers != 2 {
						t.Errorf("fiches %v, %d subscribers; want M1805, and 2 (M1805's and every fiche's)", im.Fiches, im.Subscribers)
					}
				}
				for _, im := range []*refclient.Impact{unreplaced, replaced} {
					if !slices.Equal(sources(im.Mobilites), facts.mobilitesTo) {
						t.Errorf("mobilités from %v; want %v", sources(im.Mobilites), facts.mobilitesTo)
					}
				}
				if len(lonely.Mobilites) != 0 {
					t.Errorf("a compétence no other fiche carries grounds no mobilité: %+v", lonely.Mobilites)
				}
				if m := unreplaced.Mobilites[0]; m.CodeRomeCible != "M1805" || m.Rang < 1 || m.Libelle == "" {
					t.Errorf("mobilité %+v", m)
				}
				if got := codes(unreplaced.OrphanAppellations); !slices.Equal(got, []string{x}) || unreplaced.OrphanAppellations[0].CodeRome != "M1805" {
					t.Errorf("orphans of a removal without replacement: %+v, want %s", unreplaced.OrphanAppellations, x)
				}
				if len(replaced.OrphanAppellations) != 0 {
					t.Errorf("a replaced appellation is no orphan: %+v", replaced.OrphanAppellations)
				}
				if got := codes(lonely.OrphanItems); !slices.Equal(got, []string{facts.lonely}) || lonely.OrphanItems[0].Libelle == "" {
					t.Errorf("orphan items %+v, want %s", lonely.OrphanItems, facts.lonely)
				}
				if len(shared.OrphanItems) != 0 || !slices.Equal(sources(shared.Mobilites), facts.sharers) {
					t.Errorf("shared compétence: orphans %+v, mobilités from %v, want none and %v", shared.OrphanItems, sources(shared.Mobilites), facts.sharers)
				}
				// A replacement removed by the same change set replaces nothing.
				rs = validation(t, e,
					map[string]any{"op": "remove_appellation", "codeOgr": y, "replacedBy": z},
					map[string]any{"op": "remove_appellation", "codeOgr": z, "reason": "doublon"})
				if got := codes(rs[0].Impact.OrphanAppellations); !slices.Equal(got, []string{y}) {
					t.Errorf("orphans when the replacement goes too: %v, want %s", got, y)
				}
			})

			t.Run("correspondences", func(t *testing.T) {
				service := e.token(auth.RoleService)
				zLabel := appellationLabel(t, e, z)
				for i, op := range []map[string]any{
					{"op": "remove_appellation", "codeOgr": x, "replacedBy": y},
					{"op": "add_mobilite", "toCodeRome": "M1402"},
					{"op": "remove_appellation", "codeOgr": y, "replacedBy": z},
				} {
					expect(t, e.do("POST", "/v1/changesets", service, map[string]any{"id": "cs-corr-" + op["op"].(string) + string(rune('a'+i)),
						"requestId": "req-corr", "baseVersion": 60 + i, "codeRome": "M1805", "operations": []any{op}}), 201)
				}
				// The changelog entry names the replacement.
				ch := e.get("/v1/versions/61/changes").json(t)
				if after := ch["changes"].([]any)[0].(map[string]any)["change"].(map[string]any)["after"]; after.(map[string]any)["replacedBy"] != y {
					t.Errorf("changelog entry of v61: after = %v", after)
				}
				var all []map[string]any
				for cursor := ""; ; {
					r := e.get("/v1/correspondences?limit=1" + cursor)
					expect(t, r, 200)
					p := r.json(t)
					for _, it := range p["items"].([]any) {
						all = append(all, it.(map[string]any))
					}
					if p["nextCursor"] == nil {
						break
					}
					cursor = "&cursor=" + p["nextCursor"].(string)
				}
				if len(all) != 2 || all[0]["codeOgr"] != x || all[0]["version"] != 61.0 || all[1]["codeOgr"] != y || all[1]["version"] != 63.0 {
					t.Fatalf("correspondences %v", all)
				}
				if by := all[1]["replacedBy"].(map[string]any); by["codeOgr"] != z || by["libelle"] != zLabel || by["codeRome"] != "M1805" ||
					all[1]["requestId"] != "req-corr" || all[1]["codeRome"] != "M1805" {
					t.Errorf("correspondence %v", all[1])
				}
				if items := e.get("/v1/correspondences?since=61").json(t)["items"].([]any); len(items) != 1 {
					t.Errorf("since=61: %v", items)
				}
				for _, q := range []string{"since=x", "since=64", "cursor=!!", "cursor=bm9wZQ", "limit=0"} {
					if r := e.get("/v1/correspondences?" + q); r.status != 422 {
						t.Errorf("%s: %d %s", q, r.status, r.body)
					}
				}
				if m := deltaManifest(t, e, 63); len(m.Correspondences) != 1 || m.Correspondences[0].ReplacedBy.CodeOgr != z {
					t.Errorf("manifest of v63: %+v", m.Correspondences)
				}
				if m := deltaManifest(t, e, 62); m.Correspondences == nil || len(m.Correspondences) != 0 {
					t.Errorf("manifest of v62: %+v", m.Correspondences)
				}
				// Removing z unreplaced now strands y, and x behind it.
				rs := validation(t, e, map[string]any{"op": "remove_appellation", "codeOgr": z, "reason": "obsolète"})
				if got := codes(rs[0].Impact.OrphanAppellations); !slices.Equal(got, []string{z, x, y}) && !slices.Equal(got, []string{z, y, x}) {
					t.Errorf("orphans of z: %v, want z then x and y", got)
				}
			})
		})
	}
}

func appellationLabel(t *testing.T, e *env, code string) string {
	t.Helper()
	r := e.get("/v1/appellations/" + code)
	expect(t, r, 200)
	return r.json(t)["libelle"].(string)
}

func deltaManifest(t *testing.T, e *env, n int) delta.Manifest {
	t.Helper()
	r := e.get("/v1/versions/" + strconv.Itoa(n) + "/delta")
	expect(t, r, 200)
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(delta.ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var m delta.Manifest
	if err := json.NewDecoder(f).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
