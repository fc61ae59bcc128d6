package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// directoryServer plays the intake's GET /v1/people/{sub} over people; down makes it fail.
type directoryServer struct {
	*httptest.Server
	people map[string]Person
	hits   atomic.Int32
	down   atomic.Bool
}

func newDirectoryServer(t *testing.T, people ...Person) *directoryServer {
	d := &directoryServer{people: map[string]Person{}}
	for _, p := range people {
		d.people[p.Sub] = p
	}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.hits.Add(1)
		sub, ok := strings.CutPrefix(r.URL.Path, "/v1/people/")
		p, known := d.people[sub]
		switch {
		case d.down.Load():
			w.WriteHeader(http.StatusBadGateway)
		case !ok || !known:
			w.WriteHeader(http.StatusNotFound)
		default:
			_ = json.NewEncoder(w).Encode(p)
		}
	}))
	t.Cleanup(d.Close)
	return d
}

// TestVerifyAgainstTheDirectory: with a directory, a person's token is accepted only when
// the directory knows them, active, and agrees with its claims; their role, organisation,
// name, e-mail and Entra object id are the directory's. Services are not people.
func TestVerifyAgainstTheDirectory(t *testing.T) {
	good, _ := keys(t)
	p := newIDP(t)
	dir := newDirectoryServer(t,
		Person{Sub: "user-1", Name: "Alice Martin (OPCO 2i)", Email: "alice@opco2i.fr", EntraID: "oid-1", Role: RolePartner, Org: "opco-2i", Active: true},
		Person{Sub: "user-2", Name: "Bruno", Role: RoleModerator, Active: true},
		Person{Sub: "user-3", Name: "Gone", Role: RolePartner, Org: "opco-2i"},
	)
	v, err := NewVerifier(Config{Issuer: p.URL, Audience: testAudience, Directory: NewRemoteDirectory(dir.URL, http.DefaultClient)})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(overrides map[string]any) (Principal, error) {
		return v.Verify(t.Context(), sign(t, good, testKID, claims(p.URL, overrides)))
	}

	got, err := verify(nil)
	want := Principal{Subject: "user-1", Name: "Alice Martin (OPCO 2i)", Email: "alice@opco2i.fr", EntraID: "oid-1", Role: RolePartner, Org: "opco-2i"}
	if err != nil || got != want {
		t.Fatalf("known partner: %+v, %v", got, err)
	}
	// An identity provider's token need not carry the role nor the organisation.
	if got, err := verify(map[string]any{"sub": "user-2", "roles": nil, "org": nil}); err != nil || got.Role != RoleModerator {
		t.Fatalf("moderator without role claim: %+v, %v", got, err)
	}
	_, err = verify(map[string]any{"sub": "nobody"})
	wantProblem(t, err, 403, "unknown_person")
	_, err = verify(map[string]any{"sub": "user-3"})
	wantProblem(t, err, 403, "person_deactivated")
	_, err = verify(map[string]any{"roles": []string{"admin"}})
	wantProblem(t, err, 403, "claims_mismatch")
	_, err = verify(map[string]any{"org": "opco-ep"})
	wantProblem(t, err, 403, "claims_mismatch")
	_, err = verify(map[string]any{"oid": "oid-2"})
	wantProblem(t, err, 403, "claims_mismatch")
	_, err = verify(map[string]any{"roles": []string{"admin", "partner"}})
	wantProblem(t, err, 401, "invalid_role")

	hits := dir.hits.Load()
	if got, err := verify(map[string]any{"sub": "service:worker", "roles": []string{"service"}, "org": nil}); err != nil || got.Role != RoleService {
		t.Fatalf("service: %+v, %v", got, err)
	}
	if dir.hits.Load() != hits {
		t.Fatal("a service's token was looked up in the directory")
	}
}

// TestRemoteDirectoryCache: answers are remembered for DirectoryTTL, unknown people too;
// while the directory is down, an entry up to staleGrace old still answers, then the
// lookups fail (directory_unavailable, 503).
func TestRemoteDirectoryCache(t *testing.T) {
	dir := newDirectoryServer(t, Person{Sub: "user-1", Name: "Alice", Role: RolePartner, Org: "opco-2i", Active: true})
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	remote := NewRemoteDirectory(dir.URL+"/", http.DefaultClient)
	remote.now = func() time.Time { return now }
	ctx := t.Context()

	for range 3 {
		if p, err := remote.Person(ctx, "user-1", ""); err != nil || p.Name != "Alice" {
			t.Fatalf("user-1: %+v, %v", p, err)
		}
		if _, err := remote.Person(ctx, "nobody", ""); err != ErrUnknownPerson {
			t.Fatalf("nobody: %v", err)
		}
	}
	if n := dir.hits.Load(); n != 2 {
		t.Fatalf("%d lookups for two people within the TTL, want 2", n)
	}

	dir.people["user-1"] = Person{Sub: "user-1", Name: "Alice", Role: RolePartner, Org: "opco-2i"} // deactivated
	now = now.Add(DirectoryTTL)
	if p, err := remote.Person(ctx, "user-1", ""); err != nil || p.Active {
		t.Fatalf("deactivation not seen after the TTL: %+v, %v", p, err)
	}

	dir.down.Store(true)
	now = now.Add(DirectoryTTL)
	if p, err := remote.Person(ctx, "user-1", ""); err != nil || p.Name != "Alice" {
		t.Fatalf("stale entry while the directory is down: %+v, %v", p, err)
	}
	now = now.Add(staleGrace)
	if _, err := remote.Person(ctx, "user-1", ""); err == nil || err == ErrUnknownPerson {
		t.Fatalf("entry past its grace while the directory is down: %v", err)
	}
	v, err := NewVerifier(Config{Issuer: "https://issuer.example", Audience: testAudience, Directory: remote})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.fromDirectory(ctx, Principal{Subject: "user-1"}, nil)
	wantProblem(t, err, 503, "directory_unavailable")
}
