package graphemu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/tools/graphemu"
)

type client struct {
	t     *testing.T
	base  string
	http  *http.Client
	token string
	stop  func() // stops the server and waits for the notifications in flight
}

func start(t *testing.T) (*graphemu.Emulator, *client) {
	t.Helper()
	emu := graphemu.New(graphemu.Config{NotificationBackoff: 10 * time.Millisecond})
	return emu, serve(t, emu)
}

// serve serves emu over TLS until stop (or the test's end) and returns a client holding a token.
func serve(t *testing.T, emu *graphemu.Emulator) *client {
	t.Helper()
	srv := httptest.NewTLSServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	c := &client{t: t, base: srv.URL, http: srv.Client(), stop: func() { srv.Close(); emu.Close() }}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {graphemu.DefaultClientID},
		"client_secret": {graphemu.DefaultClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := c.http.PostForm(srv.URL+"/"+graphemu.DefaultTenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	c.token = tok.AccessToken
	return c
}

func (c *client) do(method, path string, body any) (int, map[string]any, http.Header) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

const channels = "/v1.0/teams/rome-team/channels"

func TestTokenChecksTheClientSecret(t *testing.T) {
	_, c := start(t)
	resp, err := c.http.PostForm(c.base+"/"+graphemu.DefaultTenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {graphemu.DefaultClientID}, "client_secret": {"wrong"}, "scope": {"x/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("want 401, got %d", resp.StatusCode)
	}
	c.token = "forged"
	if st, body, _ := c.do("GET", channels, nil); st != 401 || errCode(body) != "InvalidAuthenticationToken" {
		t.Fatalf("%d %v", st, body)
	}
}

func TestDuplicateNamesFilterAndArchive(t *testing.T) {
	_, c := start(t)
	st, ch, _ := c.do("POST", channels, map[string]any{"displayName": "REQ-1 M1805 Études", "membershipType": "standard"})
	if st != 201 || ch["webUrl"] == "" {
		t.Fatalf("%d %v", st, ch)
	}
	if st, body, _ := c.do("POST", channels, map[string]any{"displayName": "req-1 m1805 études"}); st != 400 || errCode(body) != "NameAlreadyExists" {
		t.Fatalf("duplicate: %d %v", st, body)
	}
	if st, body, _ := c.do("POST", channels, map[string]any{"displayName": "a/b"}); st != 400 || errCode(body) != "BadRequest" {
		t.Fatalf("forbidden char: %d %v", st, body)
	}
	st, list, _ := c.do("GET", channels+"?"+url.Values{"$filter": {"displayName eq 'REQ-1 M1805 Études'"}}.Encode(), nil)
	if st != 200 || len(list["value"].([]any)) != 1 {
		t.Fatalf("filter: %d %v", st, list)
	}
	id := url.PathEscape(ch["id"].(string))
	if st, _, _ := c.do("POST", channels+"/"+id+"/messages", map[string]any{"body": map[string]any{"contentType": "html", "content": "<p>hi</p>"}}); st != 201 {
		t.Fatalf("post: %d", st)
	}
	if st, _, _ := c.do("POST", channels+"/"+id+"/archive", map[string]any{}); st != 202 {
		t.Fatalf("archive: %d", st)
	}
	if _, got, _ := c.do("GET", channels+"/"+id, nil); got["isArchived"] != true {
		t.Fatalf("not archived: %v", got)
	}
	if st, body, _ := c.do("POST", channels+"/"+id+"/messages", map[string]any{"body": map[string]any{"content": "late"}}); st != 403 || errCode(body) != "Forbidden" {
		t.Fatalf("post to archived: %d %v", st, body)
	}
}

func TestFaults(t *testing.T) {
	emu, c := start(t)
	emu.AddFault(graphemu.Fault{Method: "GET", PathPrefix: channels, Status: 429, RetryAfterSeconds: 3, Times: 2})
	for range 2 {
		if st, body, h := c.do("GET", channels, nil); st != 429 || h.Get("Retry-After") != "3" || errCode(body) != "TooManyRequests" {
			t.Fatalf("%d %v %v", st, body, h)
		}
	}
	if st, _, _ := c.do("GET", channels, nil); st != 200 {
		t.Fatalf("fault should be spent, got %d", st)
	}
	req, _ := http.NewRequest("POST", c.base+"/_emulator/faults", strings.NewReader(`{"pathPrefix":"/v1.0/","status":500}`))
	if resp, err := c.http.Do(req); err != nil || resp.StatusCode != 201 {
		t.Fatalf("%v %v", resp, err)
	}
	if st, _, _ := c.do("GET", channels, nil); st != 500 {
		t.Fatalf("want 500, got %d", st)
	}
	req, _ = http.NewRequest("DELETE", c.base+"/_emulator/faults", nil)
	if resp, err := c.http.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("%v %v", resp, err)
	}
	if st, _, _ := c.do("GET", channels, nil); st != 200 {
		t.Fatalf("faults not cleared: %d", st)
	}
}

func TestSubscriptionHandshakeAndNotifications(t *testing.T) {
	emu, c := start(t)
	var mu sync.Mutex
	var got []map[string]any
	fail := 1 // the first notification attempt fails: it must be retried
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			_, _ = io.WriteString(w, tok)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 {
			fail--
			w.WriteHeader(500)
			return
		}
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		got = append(got, b)
		w.WriteHeader(202)
	}))
	defer hook.Close()
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	defer silent.Close()

	_, ch, _ := c.do("POST", channels, map[string]any{"displayName": "REQ-2"})
	id := ch["id"].(string)
	sub := map[string]any{"changeType": "created", "resource": "/teams/rome-team/channels/" + id + "/messages",
		"expirationDateTime": time.Now().Add(30 * time.Minute).UTC(), "clientState": "cs", "notificationUrl": silent.URL}
	if st, body, _ := c.do("POST", "/v1.0/subscriptions", sub); st != 400 {
		t.Fatalf("handshake not echoed must be 400, got %d %v", st, body)
	}
	sub["notificationUrl"] = hook.URL
	sub["expirationDateTime"] = time.Now().Add(3 * time.Hour).UTC()
	if st, _, _ := c.do("POST", "/v1.0/subscriptions", sub); st != 400 {
		t.Fatalf("lifetime over 60 min must be 400, got %d", st)
	}
	sub["expirationDateTime"] = time.Now().Add(30 * time.Minute).UTC()
	st, created, _ := c.do("POST", "/v1.0/subscriptions", sub)
	if st != 201 {
		t.Fatalf("%d %v", st, created)
	}
	// App messages do not notify; user messages do.
	c.do("POST", channels+"/"+url.PathEscape(id)+"/messages", map[string]any{"body": map[string]any{"content": "from the app"}})
	var um graphemu.UserMessage
	um.From.ID, um.From.DisplayName, um.Text = "u1", "Alice", "hello"
	m, err := emu.PostUserMessage("rome-team", id, um)
	if err != nil {
		t.Fatal(err)
	}
	emu.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("want 1 notification, got %v", got)
	}
	n := got[0]["value"].([]any)[0].(map[string]any)
	if n["subscriptionId"] != created["id"] || n["clientState"] != "cs" || n["resourceData"].(map[string]any)["id"] != m.ID ||
		n["resource"] != "teams('rome-team')/channels('"+id+"')/messages('"+m.ID+"')" {
		t.Fatalf("notification %v", n)
	}
	if d := emu.State().Deliveries; len(d) != 1 || d[0].Attempts != 2 || !d[0].Delivered {
		t.Fatalf("deliveries %+v", d)
	}
	if st, _, _ := c.do("PATCH", "/v1.0/subscriptions/"+created["id"].(string), map[string]any{"expirationDateTime": time.Now().Add(55 * time.Minute).UTC()}); st != 200 {
		t.Fatalf("renew: %d", st)
	}
	if st, _, _ := c.do("DELETE", "/v1.0/subscriptions/"+created["id"].(string), nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st, body, _ := c.do("PATCH", "/v1.0/subscriptions/"+created["id"].(string), map[string]any{"expirationDateTime": time.Now().Add(5 * time.Minute).UTC()}); st != 404 || errCode(body) != "ResourceNotFound" {
		t.Fatalf("renew deleted: %d %v", st, body)
	}
}

func TestActivityFeed(t *testing.T) {
	emu, c := start(t)
	const path = "/v1.0/users/aad-moderator/teamwork/sendActivityNotification"
	good := map[string]any{
		"topic":              map[string]any{"source": "text", "value": "Request REQ-1 submitted", "webUrl": "https://rome.example/requests/REQ-1"},
		"activityType":       "systemDefault",
		"previewText":        map[string]any{"content": "Please triage"},
		"templateParameters": []any{map[string]any{"name": "systemDefaultText", "value": "Please triage"}},
	}
	if st, body, _ := c.do("POST", path, good); st != 204 {
		t.Fatalf("send: %d %v", st, body)
	}
	bad := func(mutate func(m map[string]any)) map[string]any {
		b, _ := json.Marshal(good)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mutate(m)
		return m
	}
	for name, body := range map[string]map[string]any{
		"no web url":       bad(func(m map[string]any) { delete(m["topic"].(map[string]any), "webUrl") }),
		"no default text":  bad(func(m map[string]any) { delete(m, "templateParameters") }),
		"long preview":     bad(func(m map[string]any) { m["previewText"] = map[string]any{"content": strings.Repeat("é", 151)} }),
		"unknown source":   bad(func(m map[string]any) { m["topic"].(map[string]any)["source"] = "other" }),
		"no activity type": bad(func(m map[string]any) { delete(m, "activityType") }),
	} {
		if st, resp, _ := c.do("POST", path, body); st != 400 || errCode(resp) != "BadRequest" {
			t.Errorf("%s: %d %v", name, st, resp)
		}
	}
	feed := emu.State().ActivityFeed
	if len(feed) != 1 || feed[0].UserID != "aad-moderator" || feed[0].Topic != "Request REQ-1 submitted" ||
		feed[0].PreviewText != "Please triage" || feed[0].WebURL != "https://rome.example/requests/REQ-1" {
		t.Fatalf("feed = %+v", feed)
	}
}
