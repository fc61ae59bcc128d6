package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
)

// fakeTargets stands for the intake and the referential in router tests.
// It applies the intake's visibility rule (a partner sees only their
// organisation's requests) to the principal each token was minted for.
type fakeTargets struct {
	mu                        sync.Mutex
	principals                map[string]auth.Principal // by token (env.mint)
	requests                  map[string]string         // request id → organisation
	fiches                    map[string]bool
	intakeDown, referentialUp bool
	tokens                    []string // the tokens RequestVisible was given
}

func newFakeTargets() *fakeTargets {
	return &fakeTargets{
		principals:    map[string]auth.Principal{},
		requests:      map[string]string{"req-1": "opco-a", "req-2": "opco-b"},
		fiches:        map[string]bool{"M1805": true, "K2111": true},
		referentialUp: true,
	}
}

func (f *fakeTargets) mint(token string, p auth.Principal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.principals[token] = p
}

func (f *fakeTargets) set(change func(*fakeTargets)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeTargets) RequestVisible(_ context.Context, token, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, token)
	if f.intakeDown {
		return errors.New("intake: connection refused")
	}
	p, known := f.principals[token]
	org, ok := f.requests[id]
	if !known || !ok || (p.Role == auth.RolePartner && p.Org != org) {
		return ErrTargetNotFound
	}
	return nil
}

func (f *fakeTargets) FicheExists(_ context.Context, code string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.referentialUp {
		return errors.New("referential: HTTP 502")
	}
	if !f.fiches[code] {
		return ErrTargetNotFound
	}
	return nil
}

func (e *env) followCount(token string) int {
	e.t.Helper()
	r := e.do("GET", "/v1/follows", token, nil)
	items, ok := r.body["items"].([]any)
	if r.status != 200 || !ok {
		e.t.Fatalf("follows: %d %v", r.status, r.body)
	}
	return len(items)
}

func TestFollowOnlyVisibleRequestsAndExistingFiches(t *testing.T) {
	e := newEnv(t)
	alice := e.token("alice", auth.RolePartner, "opco-a")
	mod := e.token("mod", auth.RoleModerator, "")

	// A partner follows their organisation's request, with their own token asked.
	if r := e.do("POST", "/v1/follows", alice, notifclient.Follow{RequestID: "req-1"}); r.status != 201 {
		t.Fatalf("follow own request: %d %v", r.status, r.body)
	}
	if !slices.Equal(e.targets.tokens, []string{alice}) {
		t.Fatalf("the intake was asked with %d tokens, want only the caller's", len(e.targets.tokens))
	}
	// Another organisation's request, or none: 404, nothing recorded.
	e.do("POST", "/v1/follows", alice, notifclient.Follow{RequestID: "req-2"}).problem(t, 404, "request_not_found", "requestId")
	e.do("POST", "/v1/follows", alice, notifclient.Follow{RequestID: "req-404"}).problem(t, 404, "request_not_found", "requestId")
	if n := e.followCount(alice); n != 1 {
		t.Fatalf("alice follows %d things, want only req-1", n)
	}
	// A moderator sees every request.
	if r := e.do("POST", "/v1/follows", mod, notifclient.Follow{RequestID: "req-2"}); r.status != 201 {
		t.Fatalf("moderator follows: %d %v", r.status, r.body)
	}

	// Fiches: only those of the referential.
	if r := e.do("POST", "/v1/follows", alice, notifclient.Follow{CodeRome: "K2111"}); r.status != 201 {
		t.Fatalf("follow fiche: %d %v", r.status, r.body)
	}
	e.do("POST", "/v1/follows", alice, notifclient.Follow{CodeRome: "A9999"}).problem(t, 404, "fiche_not_found", "codeRome")

	// A service down: 503, never 500, nothing recorded.
	e.targets.set(func(f *fakeTargets) { f.intakeDown, f.referentialUp = true, false })
	e.do("POST", "/v1/follows", mod, notifclient.Follow{RequestID: "req-1"}).problem(t, 503, "intake_unavailable")
	e.do("POST", "/v1/follows", mod, notifclient.Follow{CodeRome: "M1805"}).problem(t, 503, "referential_unavailable")
	if n := e.followCount(mod); n != 1 {
		t.Fatalf("mod follows %d things, want only req-2", n)
	}
	// Unfollowing asks no one: one may stop following what one no longer sees.
	asked := len(e.targets.tokens)
	if r := e.do("DELETE", "/v1/follows", alice, notifclient.Follow{RequestID: "req-1"}); r.status != 204 {
		t.Fatalf("unfollow with the intake down: %d %v", r.status, r.body)
	}
	if len(e.targets.tokens) != asked {
		t.Error("unfollow asked the intake")
	}
	// Validation comes first: an invalid follow asks no one.
	e.do("POST", "/v1/follows", alice, notifclient.Follow{CodeRome: "m1805"}).problem(t, 422, "invalid_follow", "codeRome")
}

func TestServiceTargets(t *testing.T) {
	var gotAuth, gotPath []string
	var mu sync.Mutex
	intake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotAuth, gotPath = append(gotAuth, r.Header.Get("Authorization")), append(gotPath, r.URL.EscapedPath())
		mu.Unlock()
		switch {
		case r.Method != http.MethodGet:
			w.WriteHeader(405)
		case r.URL.Path == "/v1/requests/req-1" && r.Header.Get("Authorization") == "Bearer alice-token":
			w.Write([]byte(`{"id":"req-1","org":"opco-a"}`))
		case r.URL.Path == "/v1/requests/boom":
			w.WriteHeader(500)
			w.Write([]byte(`{"status":500,"code":"internal_error"}`))
		case r.URL.Path == "/v1/requests/slow":
			time.Sleep(300 * time.Millisecond)
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			w.Write([]byte(`{"status":404,"code":"request_not_found","detail":"No request with this id is visible to you."}`))
		}
	}))
	defer intake.Close()
	referential := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the referential was sent a token: %q", r.Header.Get("Authorization"))
		}
		if r.URL.Path == "/v1/fiches/M1805" {
			w.Write([]byte(`{"code":"M1805"}`))
			return
		}
		w.WriteHeader(404)
		w.Write([]byte(`{"status":404,"code":"fiche_not_found"}`))
	}))
	defer referential.Close()

	ctx := context.Background()
	tg := NewServiceTargets(intake.URL+"/", referential.URL, &http.Client{Timeout: 100 * time.Millisecond})
	if err := tg.RequestVisible(ctx, "alice-token", "req-1"); err != nil {
		t.Errorf("visible request: %v", err)
	}
	if err := tg.RequestVisible(ctx, "bob-token", "req-1"); !errors.Is(err, ErrTargetNotFound) {
		t.Errorf("request of another organisation: %v", err)
	}
	if err := tg.RequestVisible(ctx, "alice-token", "a/b?c"); !errors.Is(err, ErrTargetNotFound) {
		t.Errorf("odd id: %v", err)
	}
	mu.Lock()
	if want := []string{"Bearer alice-token", "Bearer bob-token", "Bearer alice-token"}; !slices.Equal(gotAuth, want) {
		t.Errorf("tokens sent = %q, want %q", gotAuth, want)
	}
	if gotPath[2] != "/v1/requests/a%2Fb%3Fc" {
		t.Errorf("id not escaped: %s", gotPath[2])
	}
	mu.Unlock()
	for _, id := range []string{"boom", "slow"} {
		if err := tg.RequestVisible(ctx, "alice-token", id); err == nil || errors.Is(err, ErrTargetNotFound) {
			t.Errorf("%s: %v, want an error other than not found", id, err)
		}
	}
	if err := tg.FicheExists(ctx, "M1805"); err != nil {
		t.Errorf("existing fiche: %v", err)
	}
	if err := tg.FicheExists(ctx, "A9999"); !errors.Is(err, ErrTargetNotFound) {
		t.Errorf("unknown fiche: %v", err)
	}

	intake.Close()
	referential.Close()
	if err := tg.RequestVisible(ctx, "alice-token", "req-1"); err == nil || errors.Is(err, ErrTargetNotFound) {
		t.Errorf("intake down: %v", err)
	}
	if err := tg.FicheExists(ctx, "M1805"); err == nil || errors.Is(err, ErrTargetNotFound) {
		t.Errorf("referential down: %v", err)
	}
}
