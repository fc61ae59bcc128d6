package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

// Text hygiene at the referential: a change set whose texts break the platform's rule is
// refused with 422 naming the operation's field, before the engine runs (it used to be
// reported applies:true and published; a NUL made PostgreSQL answer 500).
func TestChangeSetsRefuseHostileText(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			partner, service := e.token(auth.RolePartner), e.token(auth.RoleService)
			hostile := []map[string]any{
				{"op": "add_appellation", "libelle": "Développeur Rust"},
				{"op": "add_appellation", "libelle": "Développeur \u202Etsur"},
				{"op": "set_text", "field": "definition", "text": "Conçoit\u0000 des logiciels."},
				{"op": "add_savoir", "new": map[string]any{"libelle": strings.Repeat("s", 401), "categorie": "Domaines d'expertise"}},
			}
			fields := func(r resp) []string {
				var p struct {
					Code   string `json:"code"`
					Errors []struct {
						Field string `json:"field"`
					} `json:"errors"`
				}
				if err := json.Unmarshal(r.body, &p); err != nil || p.Code != "invalid_text" {
					t.Fatalf("%d %s: want the invalid_text problem", r.status, r.body)
				}
				var out []string
				for _, e := range p.Errors {
					out = append(out, e.Field)
				}
				return out
			}
			want := "operations[1].libelle operations[2].text operations[3].new.libelle"

			r := e.do("POST", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M1805", "operations": hostile})
			expect(t, r, 422)
			if got := strings.Join(fields(r), " "); got != want {
				t.Fatalf("validate names %q, want %q", got, want)
			}
			cs := map[string]any{"id": "cs-hostile-1", "requestId": "req-hostile", "baseVersion": 60, "codeRome": "M1805", "operations": hostile}
			r = e.do("POST", "/v1/changesets", service, cs)
			expect(t, r, 422)
			if got := strings.Join(fields(r), " "); got != want {
				t.Fatalf("publish names %q, want %q", got, want)
			}
			if v := e.get("/v1/version").json(t); v["version"] != float64(60) {
				t.Fatalf("a hostile change set was published: version %v", v["version"])
			}

			// Acceptable texts are published cleaned: trimmed, CR+LF folded, NFC.
			clean := []map[string]any{
				{"op": "add_appellation", "libelle": "  De\u0301veloppeur Rust\u00a0"},
				{"op": "set_text", "field": "accesEmploi", "text": "Bac+5.\r\nAccessible par la VAE. "},
			}
			cs = map[string]any{"id": "cs-clean-1", "requestId": "req-clean", "baseVersion": 60, "codeRome": "M1805", "operations": clean}
			expect(t, e.do("POST", "/v1/changesets", service, cs), 201)
			f := e.get("/v1/fiches/M1805").json(t)
			if f["accesEmploi"] != "Bac+5.\nAccessible par la VAE." {
				t.Errorf("accesEmploi %q", f["accesEmploi"])
			}
			found := false
			for _, a := range f["appellations"].([]any) {
				found = found || a.(map[string]any)["libelle"] == "Développeur Rust"
			}
			if !found {
				t.Errorf("the new appellation is not stored as NFC and trimmed: %v", f["appellations"])
			}
		})
	}
}
