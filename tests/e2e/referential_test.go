package e2e

import (
	"net/http"
	"testing"
)

var setDefinition = map[string]any{
	"codeRome": "M1805",
	"operations": []map[string]any{
		{"op": "set_text", "field": "definition", "text": "Nouvelle définition."},
	},
}

func testValidateChangeSet(t *testing.T, p *platform) {
	url := p.Referential + "/v1/changesets:validate"
	wantProblem(t, http.MethodPost, url, "", setDefinition, http.StatusUnauthorized)

	token := devToken(t, p, "e2e-partner", "partner", "opco-e2e")
	var v struct {
		Version  int    `json:"version"`
		CodeRome string `json:"codeRome"`
		Applies  bool   `json:"applies"`
		Results  []struct {
			Op      string `json:"op"`
			Applies bool   `json:"applies"`
		} `json:"results"`
	}
	callJSON(t, http.MethodPost, url, token, setDefinition, http.StatusOK, &v)
	if v.CodeRome != "M1805" || v.Version != 60 || !v.Applies {
		t.Errorf("validation = %+v, want M1805 on version 60, applying", v)
	}
	if len(v.Results) != 1 || v.Results[0].Op != "set_text" || !v.Results[0].Applies {
		t.Errorf("results = %+v, want the set_text operation applying", v.Results)
	}
}

// Only the workflow (role service) publishes change sets.
func testPublishNeedsTheServiceRole(t *testing.T, p *platform) {
	token := devToken(t, p, "e2e-partner", "partner", "opco-e2e")
	changeSet := map[string]any{"id": "e2e-forbidden", "requestId": "e2e", "baseVersion": 60}
	for k, v := range setDefinition {
		changeSet[k] = v
	}
	wantProblem(t, http.MethodPost, p.Referential+"/v1/changesets", token, changeSet, http.StatusForbidden)
}

// The official export loaded at start is version 60.
func testReferentialVersion(t *testing.T, p *platform) {
	var v struct {
		Version int `json:"version"`
	}
	callJSON(t, http.MethodGet, p.Referential+"/v1/version", "", nil, http.StatusOK, &v)
	if v.Version != 60 {
		t.Errorf("version = %d, want 60", v.Version)
	}
}

func testReferentialFiche(t *testing.T, p *platform) {
	var f struct {
		CodeRome string `json:"codeRome"`
	}
	callJSON(t, http.MethodGet, p.Referential+"/v1/fiches/M1805", "", nil, http.StatusOK, &f)
	if f.CodeRome != "M1805" {
		t.Errorf("codeRome = %q, want M1805", f.CodeRome)
	}
	wantProblem(t, http.MethodGet, p.Referential+"/v1/fiches/N9999", "", nil, http.StatusNotFound)
}
