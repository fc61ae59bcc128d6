// Package reftest starts the referential service for tests: the real router over the real
// v460, in a fresh database, with a dev issuer for tokens.
package reftest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/api"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// Server is a running referential.
type Server struct {
	*httptest.Server
	Issuer *auth.DevIssuer
	Store  *store.Store // the database behind it: a test's own webhook dispatcher reads it
}

// Start imports v460 into a fresh database of dialect d and serves it until the test ends,
// publishing each accepted change set at once.
func Start(t testing.TB, d database.Dialect) *Server {
	t.Helper()
	return StartWith(t, d, app.Config{})
}

// StartWith is Start with the publication mode of cfg.
func StartWith(t testing.TB, d database.Dialect, cfg app.Config) *Server {
	t.Helper()
	ctx := context.Background()
	st := store.New(dbtest.Open(t, d))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Import(ctx, romedata.Release(t), false); err != nil {
		t.Fatal(err)
	}
	svc := app.New(st, slog.New(slog.DiscardHandler), cfg)
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.NewDevIssuer(t.TempDir(), "http://issuer.test/dev")
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(auth.Config{Issuer: issuer.Issuer(), Audience: auth.DevAudience, KeySet: issuer.KeySet()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Router(api.Deps{Service: svc, Authenticate: auth.Authenticate(verifier), RequireService: auth.RequireRole(auth.RoleService),
		RequireAdmin: auth.RequireRole(auth.RoleAdmin), Clients: app.NewClients(st, time.Now),
		Webhooks: app.NewWebhooks(st, app.WebhookConfig{AllowPrivate: true}), SignedIn: api.SignedInWith(verifier)}))
	t.Cleanup(srv.Close)
	return &Server{Server: srv, Issuer: issuer, Store: st}
}

// Token mints a token for a role (partners belong to "opco-test").
func (s *Server) Token(t testing.TB, role auth.Role) string {
	t.Helper()
	p := auth.Principal{Subject: "u-" + string(role), Name: "Test", Role: role}
	if role == auth.RolePartner {
		p.Org = "opco-test"
	}
	tok, _, err := s.Issuer.Mint(p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
