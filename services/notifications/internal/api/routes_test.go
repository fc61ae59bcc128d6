package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/httpx/openapitest"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// env is the router on a fresh store, checking real JWTs of a dev issuer
// in-process.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	issuer  *auth.DevIssuer
	store   *store.Store
	targets *fakeTargets
}

// newEnv is an env on SQLite.
func newEnv(t *testing.T) *env {
	t.Helper()
	// Every exchange of the tests is checked against the OpenAPI document.
	return newEnvOn(t, database.SQLite, openapitest.NewValidator(t, openAPI).Handler)
}

// newEnvOn is an env on a database of dialect d, its router wrapped in wrap.
func newEnvOn(t *testing.T, d database.Dialect, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	issuer, err := auth.NewDevIssuer(t.TempDir(), "http://issuer.test/dev")
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: issuer.Issuer(), Audience: auth.DevAudience, KeySet: issuer.KeySet()})
	if err != nil {
		t.Fatal(err)
	}
	targets := newFakeTargets()
	a := apptest.New(t, dbtest.Open(t, d), targets)
	srv := httptest.NewServer(wrap(Router(Deps{Verifier: v, Service: a.App})))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, issuer: issuer, store: a.Store, targets: targets}
}

func (e *env) token(sub string, role auth.Role, org string) string {
	e.t.Helper()
	return e.mint(auth.Principal{Subject: sub, Name: sub, Role: role, Org: org})
}

// mint is a token saying what p says, e.g. an e-mail and an Entra object id.
func (e *env) mint(p auth.Principal) string {
	e.t.Helper()
	tok, _, err := e.issuer.Mint(p)
	if err != nil {
		e.t.Fatal(err)
	}
	e.targets.mint(tok, p)
	return tok
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (e *env) do(method, path, token string, body any, headers ...string) reply {
	e.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, &buf)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out := reply{status: res.StatusCode, header: res.Header}
	if res.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(res.Body).Decode(&out.body); err != nil {
			e.t.Fatalf("%s %s: %d, not JSON: %v", method, path, res.StatusCode, err)
		}
	}
	return out
}

// fields lists the fields a problem names.
func (r reply) fields() []string {
	var out []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

func (r reply) problem(t *testing.T, status int, code string, fields ...string) {
	t.Helper()
	if r.status != status || r.body["code"] != code {
		t.Fatalf("want %d %s, got %d %v", status, code, r.status, r.body)
	}
	for _, f := range fields {
		if !slices.Contains(r.fields(), f) {
			t.Fatalf("problem does not name %q: %v", f, r.body)
		}
	}
}

func sample(key string) notifclient.Notification {
	return notifclient.Notification{
		Key: key, Event: notifclient.EventSubmitted, RequestID: "req-1", CodeRome: "M1805", Org: "opco-a",
		Title: "New request", Actor: notifclient.Actor{Sub: "alice"}, To: notifclient.Recipients{Roles: []string{"moderator"}},
		ExcludeUsers: []string{"alice"},
	}
}

func TestCreateRolesAndIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.token("worker", auth.RoleService, "")
	mod := e.token("mod", auth.RoleModerator, "")
	partner := e.token("alice", auth.RolePartner, "opco-a")
	e.do("GET", "/v1/notifications", mod, nil) // the moderator becomes known

	e.do("POST", "/v1/notifications", mod, sample("k1")).problem(t, 403, "forbidden_role")
	e.do("POST", "/v1/notifications", partner, sample("k1")).problem(t, 403, "forbidden_role")
	e.do("GET", "/v1/notifications", svc, nil).problem(t, 403, "forbidden_role")

	first := e.do("POST", "/v1/notifications", svc, sample("k1"))
	if first.status != 201 || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("create: %d %v", first.status, first.body)
	}
	if r, _ := first.body["recipients"].([]any); len(r) != 1 || r[0] != "mod" {
		t.Fatalf("recipients: %v", first.body)
	}
	again := e.do("POST", "/v1/notifications", svc, sample("k1"), "Idempotency-Key", "k1")
	if again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || again.body["id"] != first.body["id"] ||
		again.body["createdAt"] != first.body["createdAt"] {
		t.Fatalf("replay: %d %v %v", again.status, again.header, again.body)
	}
	other := sample("k1")
	other.Title = "Another title"
	e.do("POST", "/v1/notifications", svc, other).problem(t, 422, "notification_key_reused", "key")
	e.do("POST", "/v1/notifications", svc, sample("k2"), "Idempotency-Key", "k3").problem(t, 422, "idempotency_key_mismatch", "key")

	bad := notifclient.Notification{Event: "bogus", CodeRome: "X", To: notifclient.Recipients{Roles: []string{"partner"}, Users: []string{" "}}}
	e.do("POST", "/v1/notifications", svc, bad).problem(t, 422, "invalid_notification",
		"key", "event", "title", "codeRome", "actor.sub", "to.roles[0]", "to.users[0]")

	inbox := e.do("GET", "/v1/notifications", mod, nil)
	if items, _ := inbox.body["items"].([]any); inbox.status != 200 || len(items) != 1 || inbox.body["unreadCount"] != 1.0 {
		t.Fatalf("inbox after replay: %d %v", inbox.status, inbox.body)
	}
}

func TestInboxAndRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.token("worker", auth.RoleService, "")
	alice := e.token("alice", auth.RolePartner, "opco-a")
	bob := e.token("bob", auth.RolePartner, "opco-b")
	e.do("GET", "/v1/me", alice, nil) // alice and bob become known
	e.do("GET", "/v1/me", bob, nil)
	for _, k := range []string{"a", "b", "c"} {
		n := sample(k)
		n.To = notifclient.Recipients{Orgs: []string{"opco-a"}}
		n.ExcludeUsers = nil
		if r := e.do("POST", "/v1/notifications", svc, n); r.status != 201 {
			t.Fatalf("create: %v", r.body)
		}
	}
	toBob := sample("e")
	toBob.To = notifclient.Recipients{Users: []string{"bob"}}
	bobID := e.do("POST", "/v1/notifications", svc, toBob).body["id"].(string)

	page := e.do("GET", "/v1/notifications?limit=1", alice, nil)
	items, _ := page.body["items"].([]any)
	if page.status != 200 || len(items) != 1 || page.body["unreadCount"] != 3.0 || page.body["nextCursor"] == nil {
		t.Fatalf("alice's inbox: %d %v", page.status, page.body)
	}
	id := items[0].(map[string]any)["id"].(string)
	e.do("POST", "/v1/notifications/"+bobID+"/read", alice, nil).problem(t, 404, "notification_not_found")
	if r := e.do("POST", "/v1/notifications/"+id+"/read", alice, nil); r.status != 204 {
		t.Fatalf("read: %d %v", r.status, r.body)
	}
	if r := e.do("POST", "/v1/notifications/"+id+"/read", alice, nil); r.status != 204 {
		t.Fatalf("read again: %d %v", r.status, r.body)
	}
	page = e.do("GET", "/v1/notifications?cursor="+page.body["nextCursor"].(string), alice, nil)
	items, _ = page.body["items"].([]any)
	if page.body["unreadCount"] != 2.0 || len(items) != 2 || items[0].(map[string]any)["read"] != false || page.body["nextCursor"] != nil {
		t.Fatalf("after read: %v", page.body)
	}
	if r := e.do("GET", "/v1/notifications", bob, nil); r.body["unreadCount"] != 1.0 {
		t.Fatalf("bob's inbox: %v", r.body)
	}
	e.do("GET", "/v1/notifications?limit=0", alice, nil).problem(t, 422, "invalid_query", "limit")
	e.do("GET", "/v1/notifications?cursor=x", alice, nil).problem(t, 422, "invalid_query", "cursor")
}

func TestPreferencesRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.token("alice", auth.RolePartner, "opco-a")
	r := e.do("GET", "/v1/notifications/preferences", alice, nil)
	events, _ := r.body["events"].(map[string]any)
	if r.status != 200 || len(events) != len(notifclient.Events) || r.body["email"] != "" {
		t.Fatalf("defaults: %d %v", r.status, r.body)
	}
	bad := map[string]any{
		"email": "not an address",
		"events": map[string]any{
			"question": map[string]any{"inApp": false, "email": true, "teams": true, "frequency": "weekly"},
			"nope":     map[string]any{"inApp": true, "email": true, "teams": true, "frequency": "daily"},
		},
	}
	e.do("PUT", "/v1/notifications/preferences", alice, bad).problem(t, 422, "invalid_preferences",
		"email", "events.question.inApp", "events.question.frequency", "events.nope")
	good := notifclient.Preferences{Email: "alice@example.org", Events: map[notifclient.Event]notifclient.Channels{
		notifclient.EventQuestion: {InApp: true, Email: false, Teams: true, Frequency: notifclient.Daily},
	}}
	r = e.do("PUT", "/v1/notifications/preferences", alice, good)
	q, _ := r.body["events"].(map[string]any)["question"].(map[string]any)
	if r.status != 200 || r.body["email"] != "alice@example.org" || q["email"] != false || q["frequency"] != "daily" {
		t.Fatalf("set: %d %v", r.status, r.body)
	}
	r = e.do("GET", "/v1/notifications/preferences", alice, nil)
	if q, _ := r.body["events"].(map[string]any)["question"].(map[string]any); q["frequency"] != "daily" {
		t.Fatalf("read back: %v", r.body)
	}
	e.do("GET", "/v1/notifications/preferences", e.token("w", auth.RoleService, ""), nil).problem(t, 403, "forbidden_role")
}

func TestFollowRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.token("alice", auth.RolePartner, "opco-a")
	if r := e.do("POST", "/v1/follows", alice, notifclient.Follow{RequestID: "req-1"}); r.status != 201 || r.body["requestId"] != "req-1" {
		t.Fatalf("follow: %d %v", r.status, r.body)
	}
	if r := e.do("POST", "/v1/follows", alice, notifclient.Follow{RequestID: "req-1"}); r.status != 200 {
		t.Fatalf("follow again: %d %v", r.status, r.body)
	}
	e.do("POST", "/v1/follows", alice, notifclient.Follow{RequestID: "req-1", CodeRome: "M1805"}).problem(t, 422, "invalid_follow", "requestId")
	e.do("POST", "/v1/follows", alice, notifclient.Follow{}).problem(t, 422, "invalid_follow", "requestId")
	e.do("POST", "/v1/follows", alice, notifclient.Follow{CodeRome: "m1805"}).problem(t, 422, "invalid_follow", "codeRome")
	e.do("POST", "/v1/follows", alice, map[string]any{"codeRome": "M1805", "createdAt": "2026-01-01T00:00:00Z"}).
		problem(t, 422, "invalid_follow", "createdAt")
	if r := e.do("POST", "/v1/follows", alice, notifclient.Follow{CodeRome: "M1805"}); r.status != 201 {
		t.Fatalf("follow fiche: %d %v", r.status, r.body)
	}
	r := e.do("GET", "/v1/follows", alice, nil)
	if items, _ := r.body["items"].([]any); r.status != 200 || len(items) != 2 {
		t.Fatalf("follows: %d %v", r.status, r.body)
	}
	// Following brings the request's notifications.
	svc := e.token("worker", auth.RoleService, "")
	n := sample("k")
	n.To, n.ExcludeUsers = notifclient.Recipients{}, nil
	if r := e.do("POST", "/v1/notifications", svc, n); r.status != 201 || r.body["recipients"].([]any)[0] != "alice" {
		t.Fatalf("notify followers: %d %v", r.status, r.body)
	}
	if r := e.do("DELETE", "/v1/follows", alice, notifclient.Follow{RequestID: "req-1"}); r.status != 204 {
		t.Fatalf("unfollow: %d %v", r.status, r.body)
	}
	e.do("DELETE", "/v1/follows", alice, notifclient.Follow{RequestID: "req-1"}).problem(t, 404, "follow_not_found")
}

// The platform and the ROME team learn how many people follow a fiche; a partner does not.
func TestFollowerCounts(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnvOn(t, d, openapitest.NewValidator(t, openAPI).Handler)
			alice := e.token("alice", auth.RolePartner, "opco-a")
			mod := e.token("mod", auth.RoleModerator, "")
			for _, f := range []struct {
				token  string
				follow notifclient.Follow
			}{
				{alice, notifclient.Follow{CodeRome: "M1805"}}, {alice, notifclient.Follow{RequestID: "req-1"}},
				{e.token("bob", auth.RolePartner, "opco-b"), notifclient.Follow{CodeRome: "M1805"}},
				{mod, notifclient.Follow{CodeRome: "M1805"}}, {mod, notifclient.Follow{CodeRome: "K2111"}},
			} {
				if r := e.do("POST", "/v1/follows", f.token, f.follow); r.status != 201 {
					t.Fatalf("follow %+v: %d %v", f.follow, r.status, r.body)
				}
			}
			counts := func(token string) []any {
				t.Helper()
				r := e.do("GET", "/v1/follows/counts?codeRome=M1805&codeRome=K2111&codeRome=F1703&codeRome=M1805", token, nil)
				items, _ := r.body["items"].([]any)
				if r.status != 200 {
					t.Fatalf("counts: %d %v", r.status, r.body)
				}
				return items
			}
			// Every fiche asked once, in order, whoever follows it; 0 for a fiche nobody follows.
			want := `[{"codeRome":"M1805","followers":3},{"codeRome":"K2111","followers":1},{"codeRome":"F1703","followers":0}]`
			for _, tok := range []string{e.token("service:worker", auth.RoleService, ""), mod, e.token("root", auth.RoleAdmin, "")} {
				if got, _ := json.Marshal(counts(tok)); string(got) != want {
					t.Fatalf("counts %s, want %s", got, want)
				}
			}
			if r := e.do("DELETE", "/v1/follows", alice, notifclient.Follow{CodeRome: "M1805"}); r.status != 204 {
				t.Fatalf("unfollow: %d %v", r.status, r.body)
			}
			if got := counts(mod)[0].(map[string]any)["followers"]; got != 2.0 {
				t.Fatalf("after alice unfollowed: %v followers", got)
			}

			e.do("GET", "/v1/follows/counts?codeRome=M1805", alice, nil).problem(t, 403, "forbidden_role")
			tooMany := "codeRome=M1805" + strings.Repeat("&codeRome=M1805", notifclient.MaxFollowerCodes)
			for _, query := range []string{"", "codeRome=", "codeRome=m1805", "codeRome=M1805&codeRome=Z1805", "codeRome=M18050", tooMany} {
				e.do("GET", "/v1/follows/counts?"+query, mod, nil).problem(t, 422, "invalid_query", "codeRome")
			}
		})
	}
}

func TestDeadLettersAdminOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.token("root", auth.RoleAdmin, "")
	for _, tok := range []string{e.token("mod", auth.RoleModerator, ""), e.token("w", auth.RoleService, "")} {
		e.do("GET", "/v1/notifications/dead-letters", tok, nil).problem(t, 403, "forbidden_role")
		e.do("POST", "/v1/notifications/dead-letters/mail_x/retry", tok, nil).problem(t, 403, "forbidden_role")
	}
	r := e.do("GET", "/v1/notifications/dead-letters", admin, nil)
	if items, ok := r.body["items"].([]any); r.status != 200 || !ok || len(items) != 0 {
		t.Fatalf("dead letters: %d %v", r.status, r.body)
	}
	e.do("POST", "/v1/notifications/dead-letters/mail_x/retry", admin, nil).problem(t, 404, "dead_letter_not_found")
}

// bearer adds a fixed token to every request, as the worker's oauth2
// transport does.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestClientAgainstRouter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := notifclient.New(e.srv.URL, &http.Client{Transport: bearer{e.token("worker", auth.RoleService, "")}})
	first, err := c.Notify(ctx, sample("k1"))
	if err != nil || first.ID == "" || first.Key != "k1" || first.Event != notifclient.EventSubmitted {
		t.Fatalf("notify: %+v %v", first, err)
	}
	again, err := c.Notify(ctx, sample("k1"))
	if err != nil || again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("notify again: %+v %v", again, err)
	}
	other := sample("k1")
	other.Text = "changed"
	_, err = c.Notify(ctx, other)
	var ce *notifclient.Error
	if !errors.As(err, &ce) || ce.Status != 422 || ce.Code != "notification_key_reused" || notifclient.Temporary(err) ||
		len(ce.Errors) != 1 || ce.Errors[0].Field != "key" {
		t.Fatalf("key reused: %#v", err)
	}
	partner := notifclient.New(e.srv.URL, &http.Client{Transport: bearer{e.token("alice", auth.RolePartner, "opco-a")}})
	if _, err := partner.Notify(ctx, sample("k2")); !errors.As(err, &ce) || ce.Status != 403 || notifclient.Temporary(err) {
		t.Fatalf("partner: %v", err)
	}
	if _, err := partner.FollowerCounts(ctx, []string{"M1805"}); !errors.As(err, &ce) || ce.Status != 403 || ce.Code != "forbidden_role" {
		t.Fatalf("partner counting followers: %v", err)
	}
	if counts, err := c.FollowerCounts(ctx, []string{"M1805", "K2111"}); err != nil ||
		!slices.Equal(counts, []notifclient.FollowerCount{{CodeRome: "M1805"}, {CodeRome: "K2111"}}) {
		t.Fatalf("follower counts: %+v %v", counts, err)
	}
	down := notifclient.New("http://127.0.0.1:1", nil)
	if _, err := down.Notify(ctx, sample("k3")); err == nil || !notifclient.Temporary(err) {
		t.Fatalf("service down: %v", err)
	}
}

func TestUsersAdminOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.mint(auth.Principal{Subject: "root", Name: "Root", Role: auth.RoleAdmin, Email: "root@rome.example"})
	e.do("GET", "/v1/me", e.alice(), nil) // alice (partner, e-mail and Entra id) and bob become known
	e.do("GET", "/v1/me", e.token("bob", auth.RoleModerator, ""), nil)
	for _, tok := range []string{e.token("mod", auth.RoleModerator, ""), e.token("w", auth.RoleService, ""), e.alice()} {
		e.do("GET", "/v1/users", tok, nil).problem(t, 403, "forbidden_role")
	}
	e.do("GET", "/v1/users", "", nil).problem(t, 401, "unauthenticated")

	r := e.do("GET", "/v1/users", admin, nil)
	items, _ := r.body["items"].([]any)
	if r.status != 200 || len(items) != 4 || r.body["nextCursor"] != nil {
		t.Fatalf("users: %d %v", r.status, r.body)
	}
	alice := items[0].(map[string]any)
	if alice["sub"] != "alice" || alice["name"] != "Alice" || alice["role"] != "partner" || alice["org"] != "opco-a" ||
		alice["email"] != "alice@opco-a.fr" || alice["hasEntraId"] != true || alice["lastSeenAt"] == nil {
		t.Fatalf("alice: %v", alice)
	}
	var subs []string
	for _, it := range items {
		subs = append(subs, it.(map[string]any)["sub"].(string))
	}
	// The refused moderator "mod" was seen too: every person calling the API is recorded.
	if !slices.Equal(subs, []string{"alice", "bob", "mod", "root"}) {
		t.Fatalf("users %v", subs)
	}
	if bob := items[1].(map[string]any); bob["email"] != "" || bob["hasEntraId"] != false || bob["org"] != "" {
		t.Fatalf("bob: %v", bob)
	}

	page := e.do("GET", "/v1/users?limit=3", admin, nil)
	next, _ := page.body["nextCursor"].(string)
	if items, _ := page.body["items"].([]any); len(items) != 3 || next == "" {
		t.Fatalf("first page: %v", page.body)
	}
	page = e.do("GET", "/v1/users?limit=3&cursor="+next, admin, nil)
	if items, _ := page.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["sub"] != "root" || page.body["nextCursor"] != nil {
		t.Fatalf("last page: %v", page.body)
	}
	e.do("GET", "/v1/users?limit=0", admin, nil).problem(t, 422, "invalid_query", "limit")
	e.do("GET", "/v1/users?limit=201", admin, nil).problem(t, 422, "invalid_query", "limit")
	e.do("GET", "/v1/users?cursor=!!", admin, nil).problem(t, 422, "invalid_query", "cursor")
}

func TestUsersThroughClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, sub := range []string{"alice", "bob", "carol"} {
		e.do("GET", "/v1/me", e.token(sub, auth.RolePartner, "opco-a"), nil)
	}
	admin := notifclient.New(e.srv.URL, &http.Client{Transport: bearer{e.token("root", auth.RoleAdmin, "")}})
	var subs []string
	cursor := ""
	for pages := 1; ; pages++ {
		p, err := admin.Users(ctx, 3, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range p.Items {
			subs = append(subs, u.Sub)
			if u.Role != "partner" && u.Sub != "root" || u.LastSeenAt.IsZero() {
				t.Errorf("user %+v", u)
			}
		}
		if p.NextCursor == "" {
			if pages != 2 {
				t.Errorf("%d pages of 3 for 4 users", pages)
			}
			break
		}
		cursor = p.NextCursor
	}
	if !slices.Equal(subs, []string{"alice", "bob", "carol", "root"}) {
		t.Fatalf("users %v", subs)
	}
	if p, err := admin.Users(ctx, 0, ""); err != nil || len(p.Items) != 4 {
		t.Fatalf("default limit: %+v %v", p, err)
	}
	var ce *notifclient.Error
	if _, err := admin.Users(ctx, 500, ""); !errors.As(err, &ce) || ce.Status != 422 || ce.Code != "invalid_query" || ce.Errors[0].Field != "limit" {
		t.Fatalf("limit 500: %v", err)
	}
	partner := notifclient.New(e.srv.URL, &http.Client{Transport: bearer{e.token("alice", auth.RolePartner, "opco-a")}})
	if _, err := partner.Users(ctx, 0, ""); !errors.As(err, &ce) || ce.Status != 403 || ce.Code != "forbidden_role" {
		t.Fatalf("partner: %v", err)
	}
}
