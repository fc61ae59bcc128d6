package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

const (
	claimPath = "/internal/v1/teams-deliveries/claim"
	aliceOID  = "6f1c2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b"
)

func resultPath(id string) string { return "/internal/v1/teams-deliveries/" + id + "/result" }

// alice is a partner whose token carries her e-mail and Entra object id.
func (e *env) alice() string {
	return e.mint(auth.Principal{Subject: "alice", Name: "Alice", Role: auth.RolePartner, Org: "opco-a",
		Email: "alice@opco-a.fr", EntraID: aliceOID})
}

func TestTouchUserRecordsTokenClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.do("GET", "/v1/me", e.alice(), nil); r.status != 200 || r.body["oid"] != aliceOID {
		t.Fatalf("me: %d %v", r.status, r.body)
	}
	u, err := e.store.User(context.Background(), "alice")
	if err != nil || u.TokenEmail != "alice@opco-a.fr" || u.EntraID != aliceOID || u.Org != "opco-a" {
		t.Fatalf("recorded user: %+v %v", u, err)
	}
	// Her next token is the truth.
	e.do("GET", "/v1/me", e.mint(auth.Principal{Subject: "alice", Role: auth.RolePartner, Org: "opco-a",
		Email: "a.martin@opco-a.fr", EntraID: "oid-2"}), nil)
	if u, err := e.store.User(context.Background(), "alice"); err != nil || u.TokenEmail != "a.martin@opco-a.fr" || u.EntraID != "oid-2" {
		t.Fatalf("refreshed user: %+v %v", u, err)
	}
}

func TestTeamsRoutesAreForServices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tok := range []string{
		e.token("alice", auth.RolePartner, "opco-a"), e.token("mod", auth.RoleModerator, ""), e.token("root", auth.RoleAdmin, ""),
	} {
		e.do("POST", claimPath, tok, map[string]any{"owner": "w"}).problem(t, 403, "forbidden_role")
		e.do("POST", resultPath("teams_x"), tok, notifclient.TeamsResult{Owner: "w"}).problem(t, 403, "forbidden_role")
	}
	e.do("POST", claimPath, "", map[string]any{"owner": "w"}).problem(t, 401, "unauthenticated")
	e.do("POST", resultPath("teams_x"), "", notifclient.TeamsResult{Owner: "w"}).problem(t, 401, "unauthenticated")
}

func TestTeamsRoutesValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.token("worker", auth.RoleService, "")
	invalidClaims := []struct {
		body  any
		field string
	}{
		{map[string]any{}, "owner"},
		{map[string]any{"owner": "  ", "max": 5}, "owner"},
		{map[string]any{"owner": "worker\n1"}, "owner"},
		{map[string]any{"owner": strings.Repeat("w", 201)}, "owner"},
		{map[string]any{"owner": "w", "max": 0}, "max"},
		{map[string]any{"owner": "w", "max": 101}, "max"},
	}
	for _, c := range invalidClaims {
		e.do("POST", claimPath, svc, c.body).problem(t, 422, "invalid_claim", c.field)
	}
	e.do("POST", claimPath, svc, map[string]any{"owner": "w", "max": "ten"}).problem(t, 422, "invalid_body", "max")
	e.do("POST", claimPath, svc, map[string]any{"owner": "w", "lease": 60}).problem(t, 422, "invalid_body", "lease")
	if r := e.do("POST", claimPath, svc, map[string]any{"owner": "w"}); r.status != 200 || r.body["items"] == nil {
		t.Fatalf("claim with the default max: %d %v", r.status, r.body)
	}

	invalidResults := []struct {
		body  any
		field string
	}{
		{map[string]any{}, "owner"},
		{map[string]any{"owner": "w", "permanent": true}, "permanent"},
		{map[string]any{"owner": "w", "retryAfterSeconds": 5}, "retryAfterSeconds"},
		{map[string]any{"owner": "w", "error": "429", "retryAfterSeconds": -1}, "retryAfterSeconds"},
		{map[string]any{"owner": "w", "error": "429", "retryAfterSeconds": 86401}, "retryAfterSeconds"},
	}
	for _, c := range invalidResults {
		e.do("POST", resultPath("teams_x"), svc, c.body).problem(t, 422, "invalid_result", c.field)
	}
	e.do("POST", resultPath("teams_x"), svc, map[string]any{"owner": "w", "permanent": "yes"}).problem(t, 422, "invalid_body", "permanent")

	// Unknown ids and e-mail rows are not Teams deliveries.
	e.do("GET", "/v1/me", e.alice(), nil) // alice is known, with an address
	n := notifclient.Notification{Key: "k1", Event: notifclient.EventQuestion, Title: "Question", Actor: notifclient.Actor{Sub: "mod"},
		To: notifclient.Recipients{Users: []string{"alice"}}}
	created := e.do("POST", "/v1/notifications", svc, n)
	rows, err := e.store.Outbox(context.Background(), created.body["id"].(string))
	if err != nil || len(rows) != 1 || rows[0].Channel != store.ChannelEmail {
		t.Fatalf("e-mail row: %+v %v", rows, err)
	}
	for _, id := range []string{"teams_nope", rows[0].ID, "teams_%00"} {
		e.do("POST", resultPath(id), svc, notifclient.TeamsResult{Owner: "w"}).problem(t, 404, "teams_delivery_not_found")
	}
}

func TestTeamsDeliveryThroughClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	alice := e.alice()
	feedOnly := notifclient.Preferences{Events: map[notifclient.Event]notifclient.Channels{
		notifclient.EventQuestion: {InApp: true, Email: false, Teams: true, Frequency: notifclient.Immediate},
	}}
	if r := e.do("PUT", "/v1/notifications/preferences", alice, feedOnly); r.status != 200 {
		t.Fatalf("preferences: %d %v", r.status, r.body)
	}
	worker := notifclient.New(e.srv.URL, &http.Client{Transport: bearer{e.token("worker", auth.RoleService, "")}})
	_, err := worker.Notify(ctx, notifclient.Notification{Key: "k1", Event: notifclient.EventQuestion, RequestID: "req-1",
		Title: "Une question sur votre demande", Text: "Pouvez-vous préciser l'appellation ?", Link: "/v1/requests/req-1",
		Actor: notifclient.Actor{Sub: "mod"}, To: notifclient.Recipients{Users: []string{"alice"}}})
	if err != nil {
		t.Fatal(err)
	}

	ds, err := worker.ClaimTeamsDeliveries(ctx, "worker-host-123", 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %+v %v", ds, err)
	}
	d := ds[0]
	if d.Kind != "notification" || d.Recipient != aliceOID || d.Attempt != 1 || d.Topic != "Une question sur votre demande" ||
		d.Preview != "Pouvez-vous préciser l'appellation ?" || d.Link != "http://rome.test/v1/requests/req-1" {
		t.Fatalf("delivery: %+v", d)
	}
	if more, err := worker.ClaimTeamsDeliveries(ctx, "worker-host-456", 5); err != nil || len(more) != 0 {
		t.Fatalf("claim while leased: %+v %v", more, err)
	}

	// Graph refuses it for good: a dead letter an admin sees and retries.
	out, err := worker.ReportTeamsDelivery(ctx, d.ID, notifclient.TeamsResult{Owner: "worker-host-123", Error: "403 Forbidden", Permanent: true})
	if err != nil || out != (notifclient.TeamsOutcome{Status: "dead", Recorded: true}) {
		t.Fatalf("permanent refusal: %+v %v", out, err)
	}
	admin := e.token("root", auth.RoleAdmin, "")
	dl := e.do("GET", "/v1/notifications/dead-letters", admin, nil)
	items, _ := dl.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("dead letters: %v", dl.body)
	}
	if item := items[0].(map[string]any); item["channel"] != "teams" || item["to"] != aliceOID || item["messageId"] != nil ||
		item["lastError"] != "403 Forbidden" {
		t.Fatalf("dead letter: %v", item)
	}
	if r := e.do("POST", "/v1/notifications/dead-letters/"+d.ID+"/retry", admin, nil); r.status != 200 || r.body["status"] != "pending" {
		t.Fatalf("retry: %d %v", r.status, r.body)
	}

	ds, err = worker.ClaimTeamsDeliveries(ctx, "worker-host-123", 20)
	if err != nil || len(ds) != 1 || ds[0].ID != d.ID || ds[0].Attempt != 1 {
		t.Fatalf("claim after retry: %+v %v", ds, err)
	}
	sent := notifclient.TeamsResult{Owner: "worker-host-123"}
	if out, err := worker.ReportTeamsDelivery(ctx, d.ID, sent); err != nil || out != (notifclient.TeamsOutcome{Status: "sent", Recorded: true}) {
		t.Fatalf("sent: %+v %v", out, err)
	}
	if out, err := worker.ReportTeamsDelivery(ctx, d.ID, sent); err != nil || out != (notifclient.TeamsOutcome{Status: "sent"}) {
		t.Fatalf("reported again: %+v %v", out, err)
	}

	var ce *notifclient.Error
	if _, err := worker.ReportTeamsDelivery(ctx, "teams_nope", sent); !errors.As(err, &ce) || ce.Status != 404 ||
		ce.Code != "teams_delivery_not_found" || notifclient.Temporary(err) {
		t.Fatalf("unknown delivery: %v", err)
	}
	if _, err := worker.ClaimTeamsDeliveries(ctx, "", 0); !errors.As(err, &ce) || ce.Status != 422 || ce.Code != "invalid_claim" ||
		len(ce.Errors) != 1 || ce.Errors[0].Field != "owner" {
		t.Fatalf("claim without owner: %v", err)
	}
	partner := notifclient.New(e.srv.URL, &http.Client{Transport: bearer{alice}})
	if _, err := partner.ClaimTeamsDeliveries(ctx, "w", 0); !errors.As(err, &ce) || ce.Status != 403 {
		t.Fatalf("partner claims: %v", err)
	}
}
