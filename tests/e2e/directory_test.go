package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The directory (issue #12): a moderator an admin adds to the directory, who has never
// called any service, receives the next submission in their inbox and by e-mail at the
// directory's address; a partner the admin deactivates is refused by every service and by
// the dev issuer.
func testDirectory(t *testing.T, p *platform) {
	admin := devToken(t, p, "e2e-dir-admin", "admin", "")
	callJSON(t, http.MethodPost, p.Intake+"/v1/organisations", admin, map[string]any{
		"id": "opco-annuaire", "name": "OPCO de l'annuaire", "kind": "opco", "domains": []string{"D", "B1101"},
	}, http.StatusCreated, nil)
	const moderatorMail = "mona.annuaire@francetravail.example"
	callJSON(t, http.MethodPost, p.Intake+"/v1/people", admin, map[string]any{
		"sub": "e2e-dir-moderator", "name": "Mona Annuaire", "email": moderatorMail, "role": "moderator",
	}, http.StatusCreated, nil)
	callJSON(t, http.MethodPost, p.Intake+"/v1/people", admin, map[string]any{
		"sub": "e2e-dir-partner", "name": "Paul Annuaire", "email": "paul.annuaire@opco.example", "role": "partner", "org": "opco-annuaire",
	}, http.StatusCreated, nil)

	partner := devToken(t, p, "e2e-dir-partner", "partner", "opco-annuaire")
	r := submit(t, p, partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "B1101", "title": "Annuaire e2e", "justification": "Test.",
		"operations": []map[string]any{{"op": "set_tags", "emploiCadre": true}},
	})
	eventually(t, 30*time.Second, "the directory's moderator got no e-mail of the submission", func() bool {
		for _, m := range mailsTo(t, p, moderatorMail) {
			if strings.Contains(m.Body, r.ID) {
				return true
			}
		}
		return false
	})
	moderator := devToken(t, p, "e2e-dir-moderator", "moderator", "")
	var inbox struct {
		Items []struct {
			RequestID string `json:"requestId"`
			Event     string `json:"event"`
		} `json:"items"`
	}
	callJSON(t, http.MethodGet, p.Notifications+"/v1/notifications", moderator, nil, http.StatusOK, &inbox)
	found := false
	for _, it := range inbox.Items {
		found = found || (it.RequestID == r.ID && it.Event == "submitted")
	}
	if !found {
		t.Fatalf("the directory's moderator's inbox lacks the submission of %s: %+v", r.ID, inbox.Items)
	}

	callJSON(t, http.MethodPatch, p.Intake+"/v1/people/e2e-dir-partner", admin, map[string]any{"active": false}, http.StatusOK, nil)
	for _, url := range []string{p.Intake + "/v1/requests", p.Notifications + "/v1/me"} {
		status, _, body := call(t, http.MethodGet, url, partner, nil)
		if status != http.StatusForbidden || !strings.Contains(string(body), "person_deactivated") {
			t.Errorf("GET %s by a deactivated partner: %d %s", url, status, body)
		}
	}
	status, _, body := call(t, http.MethodPost, p.Intake+"/dev/token", "", map[string]string{"sub": "e2e-dir-partner", "role": "partner", "org": "opco-annuaire"})
	if status != http.StatusForbidden {
		t.Errorf("dev token for a deactivated partner: %d %s", status, body)
	}
}
