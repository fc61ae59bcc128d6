package api

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
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
		return app.ErrTargetNotFound
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
		return app.ErrTargetNotFound
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
	t.Parallel()
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
