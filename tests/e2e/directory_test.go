package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/tools/devstack"
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

// Ideas (issue #12): someone without an account sends an idea about a fiche; a moderator
// answers them by e-mail, then hands the idea to the organisation whose domains cover the
// fiche; its partner is told in their inbox, files a request from it and records it.
func testIdeas(t *testing.T, p *platform) {
	const author = "auteur.idee@example.org"
	var sent struct {
		ID string `json:"id"`
	}
	callJSON(t, http.MethodPost, p.Intake+"/v1/ideas", "", map[string]any{
		"text": "Les caristes pilotent aussi des chariots autonomes : une appellation manque.", "codeRome": "B1101", "email": author,
	}, http.StatusAccepted, &sent)

	admin := devToken(t, p, "e2e-ideas-admin", "admin", "")
	callJSON(t, http.MethodPost, p.Intake+"/v1/organisations", admin, map[string]any{
		"id": "opco-idees", "name": "OPCO des idées", "kind": "opco", "domains": []string{"B"},
	}, http.StatusCreated, nil)
	partner := devToken(t, p, "e2e-ideas-partner", "partner", "opco-idees")
	moderator := devToken(t, p, "e2e-ideas-moderator", "moderator", "")

	var idea struct {
		ID, Status, Org, RequestID, Email string
	}
	callJSON(t, http.MethodPost, p.Intake+"/v1/ideas/"+sent.ID+"/reply", moderator,
		map[string]any{"text": "Merci : nous la confions aux experts du domaine."}, http.StatusOK, &idea)
	eventually(t, 30*time.Second, "the idea's author got no e-mail of the reply", func() bool {
		for _, m := range mailsTo(t, p, author) {
			if strings.Contains(m.Body, "nous la confions aux experts") {
				return true
			}
		}
		return false
	})
	callJSON(t, http.MethodPost, p.Intake+"/v1/ideas/"+sent.ID+"/handover", moderator, map[string]any{"org": "opco-idees"}, http.StatusOK, &idea)
	if idea.Status != "handed_over" || idea.Org != "opco-idees" {
		t.Fatalf("handover: %+v", idea)
	}
	eventually(t, 30*time.Second, "the organisation's partner was not told of the idea", func() bool {
		var inbox struct {
			Items []struct{ Event, Link string } `json:"items"`
		}
		callJSON(t, http.MethodGet, p.Notifications+"/v1/notifications", partner, nil, http.StatusOK, &inbox)
		for _, it := range inbox.Items {
			if it.Event == "idea_handed_over" && strings.Contains(it.Link, sent.ID) {
				return true
			}
		}
		return false
	})
	var seen map[string]any // decoded afresh: the moderator's answers above did carry the address
	callJSON(t, http.MethodGet, p.Intake+"/v1/ideas/"+sent.ID, partner, nil, http.StatusOK, &seen)
	if _, shown := seen["email"]; shown || seen["status"] != "handed_over" {
		t.Errorf("the partner's view of the idea: %+v", seen)
	}
	r := submit(t, p, partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "B1101", "title": "Chariots autonomes", "justification": "Idée transmise par l'équipe ROME.",
		"operations": []map[string]any{{"op": "add_appellation", "libelle": "Cariste de chariots autonomes"}},
	})
	callJSON(t, http.MethodPost, p.Intake+"/v1/ideas/"+sent.ID+"/request", partner, map[string]any{"requestId": r.ID}, http.StatusOK, &idea)
	if idea.RequestID != r.ID {
		t.Fatalf("the idea does not keep its request: %+v", idea)
	}
}

// The Entra group sync (issue #12): a person added to the moderators' group in the
// identity provider (the Graph emulator) enters the directory as a moderator, found by the
// worker's delta query, before they ever sign in; removed from the group, they are
// deactivated.
func testGroupSync(t *testing.T, p *platform) {
	oid := fmt.Sprintf("0e2e5c00-0000-4000-8000-%012d", time.Now().UnixNano()%1_000_000_000_000)
	members := "/_emulator/groups/" + devstack.DevModeratorsGroup + "/members"
	graphCall(t, p, http.MethodPost, members, map[string]string{"id": oid, "displayName": "Marc Synchro", "mail": "marc.synchro@francetravail.example"})
	admin := devToken(t, p, "e2e-sync-admin", "admin", "")
	var person struct {
		Role, Source, Email string
		Active              bool
	}
	eventually(t, 60*time.Second, "the group's new member is not in the directory", func() bool {
		status, _, b := call(t, http.MethodGet, p.Intake+"/v1/people/entra-"+oid, admin, nil)
		return status == http.StatusOK && json.Unmarshal(b, &person) == nil
	})
	if person.Role != "moderator" || person.Source != "entra_sync" || person.Email != "marc.synchro@francetravail.example" || !person.Active {
		t.Fatalf("the synchronised moderator: %+v", person)
	}
	graphCall(t, p, http.MethodDelete, members+"/"+oid, nil)
	eventually(t, 60*time.Second, "the member who left the group is still active", func() bool {
		callJSON(t, http.MethodGet, p.Intake+"/v1/people/entra-"+oid, admin, nil, http.StatusOK, &person)
		return !person.Active
	})
}
