package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/tools/graphemu"
)

// Access requests (issue #12): an expert applies without an account; the e-mail's signed
// link verifies their address; the request's workflow hands it to the admins; an admin
// approves it; the workflow invites them as a guest (Graph emulator), records them in the
// directory and tells them; their first sign-in takes the entry, with the role and
// organisation of the approval, and they file a request for that organisation.
func testAccessRequests(t *testing.T, p *platform) {
	email := fmt.Sprintf("claire.acces.%d@opco-sante.example", time.Now().UnixNano())
	var accepted struct {
		ID string `json:"id"`
	}
	callJSON(t, http.MethodPost, p.Intake+"/v1/access-requests", "", map[string]any{
		"name": "Claire Accès", "email": email, "orgName": "OPCO Santé", "orgKind": "opco", "position": "Chargée de mission",
		"domains": []string{"J"}, "motivation": "Les fiches du soin évoluent.",
	}, http.StatusAccepted, &accepted)
	id := accepted.ID

	linkExpr := regexp.MustCompile(`/acces/` + id + `/verifier\?jeton=([A-Za-z0-9._%-]+)`)
	var token string
	eventually(t, 30*time.Second, "no verification e-mail reached "+email, func() bool {
		for _, m := range mailsTo(t, p, email) {
			if match := linkExpr.FindStringSubmatch(m.Body); match != nil {
				token, _ = url.QueryUnescape(match[1])
				return true
			}
		}
		return false
	})
	var view struct {
		Status string `json:"status"`
	}
	callJSON(t, http.MethodPost, p.Intake+"/v1/access-requests/"+id+"/verify", "", map[string]string{"token": token}, http.StatusOK, &view)
	if view.Status != "AWAITING_REVIEW" {
		t.Fatalf("verified request: %s", view.Status)
	}

	admin := devToken(t, p, "e2e-access-admin", "admin", "")
	callJSON(t, http.MethodPost, p.Intake+"/v1/organisations", admin, map[string]any{
		"id": "opco-sante-acces", "name": "OPCO Santé", "kind": "opco", "domains": []string{"J"},
	}, http.StatusCreated, nil)
	callJSON(t, http.MethodPost, p.Intake+"/v1/access-requests/"+id+"/approve", admin,
		map[string]string{"org": "opco-sante-acces", "role": "partner"}, http.StatusOK, nil)

	var person struct {
		Sub, Role, Org, Source string
		EntraID                string `json:"entraId"`
	}
	eventually(t, 30*time.Second, "the approved applicant is not in the directory", func() bool {
		var r struct {
			PersonSub string `json:"personSub"`
		}
		callJSON(t, http.MethodGet, p.Intake+"/v1/access-requests/"+id, admin, nil, http.StatusOK, &r)
		if r.PersonSub == "" {
			return false
		}
		status, _, b := call(t, http.MethodGet, p.Intake+"/v1/people/"+r.PersonSub, admin, nil)
		return status == http.StatusOK && json.Unmarshal(b, &person) == nil
	})
	// The dev stack invites approved applicants as guests in the Graph emulator.
	if person.Role != "partner" || person.Org != "opco-sante-acces" || person.Source != "access_request" || person.EntraID == "" {
		t.Fatalf("the approved applicant: %+v", person)
	}
	// The guest holds the app role of a partner, once.
	var roles []string
	for _, a := range graphState(t, p).AppRoleAssignments {
		if a.PrincipalID == person.EntraID {
			roles = append(roles, a.AppRoleID)
		}
	}
	if len(roles) != 1 || roles[0] != graphemu.DefaultPartnerRoleID {
		t.Fatalf("the guest %s holds the app roles %v, want the partner's", person.EntraID, roles)
	}
	eventually(t, 30*time.Second, "the applicant was not told of the approval", func() bool {
		for _, m := range mailsTo(t, p, email) {
			if strings.Contains(m.Subject, "Votre accès à la plateforme du ROME est ouvert") {
				return true
			}
		}
		return false
	})

	// Their first sign-in (the dev issuer: by their address) takes the entry.
	status, _, b := call(t, http.MethodPost, p.Intake+"/dev/token", "", map[string]string{
		"sub": "e2e-claire-acces", "name": "Claire Accès", "email": email, "role": "partner", "org": "opco-sante-acces"})
	var tok struct {
		Token string `json:"token"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("first sign-in: %d %s", status, b)
	}
	r := submit(t, p, tok.Token, map[string]any{
		"kind": "modify_fiche", "codeRome": "B1101", "title": "Première demande d'une experte admise", "justification": "Test.",
		"operations": []map[string]any{{"op": "set_tags", "emploiCadre": true}},
	})
	var filed struct {
		Org string `json:"org"`
	}
	callJSON(t, http.MethodGet, p.Intake+"/v1/requests/"+r.ID, tok.Token, nil, http.StatusOK, &filed)
	if filed.Org != "opco-sante-acces" {
		t.Fatalf("the request filed by the admitted expert is of %q", filed.Org)
	}
	if status, _, _ := call(t, http.MethodGet, p.Intake+"/v1/people/"+person.Sub, admin, nil); status != http.StatusNotFound {
		t.Fatalf("the provisional entry %s is still there: %d", person.Sub, status)
	}
}
