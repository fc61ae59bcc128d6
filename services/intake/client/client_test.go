package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/intake/client"
	"github.com/plateforme-rome/rome/services/intake/internal/api"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// bearer adds a fixed token, as the oauth2 transport does in the worker.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// intake serves the real router on a real store; it returns the server, the store, its
// database and a function minting tokens.
func intake(t *testing.T) (*httptest.Server, *store.Store, *gorm.DB, func(auth.Principal) string) {
	t.Helper()
	db := dbtest.Open(t, database.SQLite)
	st := store.New(db)
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.NewDevIssuer(t.TempDir(), "http://issuer.test/dev")
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: issuer.Issuer(), Audience: auth.DevAudience, KeySet: issuer.KeySet()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Router(api.Deps{Verifier: v, Requests: st}))
	t.Cleanup(srv.Close)
	mint := func(p auth.Principal) string {
		tok, _, err := issuer.Mint(p)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	return srv, st, db, mint
}

func submitted(id, code string, ops ...request.Operation) request.Event {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	r := request.Request{ID: id, Kind: request.KindModifyFiche, CodeRome: code, Title: "Titre " + id, Justification: "J",
		Status: request.StatusChecking, Org: "opco-2i", SubmittedBy: request.Actor{Sub: "alice", Role: request.RolePartner, Org: "opco-2i"},
		CreatedAt: at, UpdatedAt: at}
	for _, op := range ops {
		r.Operations = append(r.Operations, request.RequestOperation{Operation: op})
	}
	return request.Event{RequestID: id, Seq: 1, Type: request.EventSubmitted, At: at, Actor: r.SubmittedBy,
		Data: json.RawMessage(`{"operations":1}`), Request: r}
}

func TestClientAgainstTheIntake(t *testing.T) {
	ctx := context.Background()
	srv, st, db, mint := intake(t)
	c := client.New(srv.URL, &http.Client{Transport: bearer{mint(auth.Principal{Subject: "service:worker", Role: auth.RoleService})}})

	remove := request.Operation{ID: "op-1", Op: refclient.OpRemoveAppellation, CodeOgr: "10944"}
	first := submitted("r1", "M1805", remove)
	for range 2 { // the activity is retried: recorded once
		if err := c.RecordEvent(ctx, first); err != nil {
			t.Fatalf("record: %v", err)
		}
	}
	h, err := st.History(ctx, "r1")
	if err != nil || len(h) != 1 || h[0].Type != request.EventSubmitted || h[0].Actor.Sub != "alice" || string(h[0].Data) != `{"operations":1}` {
		t.Fatalf("history %+v %v", h, err)
	}
	if row, err := st.Get(ctx, "r1"); err != nil || row.Status != request.StatusChecking || row.LastSeq != 1 {
		t.Fatalf("projection %+v %v", row, err)
	}

	if err := c.RecordEvent(ctx, submitted("r2", "M1805", remove, request.Operation{ID: "op-2", Op: refclient.OpSetTags})); err != nil {
		t.Fatal(err)
	}
	overlaps, err := c.FindOverlaps(ctx, request.OverlapQuery{RequestID: "r2", CodeRome: "M1805", Elements: request.ElementsOf([]request.Operation{remove})})
	if err != nil || len(overlaps) != 1 || overlaps[0].RequestID != "r1" || overlaps[0].Title != "Titre r1" ||
		overlaps[0].Status != request.StatusChecking || !slices.Equal(overlaps[0].Elements, []string{"appellation:10944"}) {
		t.Fatalf("overlaps %+v %v", overlaps, err)
	}
	if none, err := c.FindOverlaps(ctx, request.OverlapQuery{RequestID: "r2", CodeRome: "K2104", Elements: []string{"tags"}}); err != nil || len(none) != 0 {
		t.Fatalf("no overlap: %+v %v", none, err)
	}

	// A refused event is a final error naming the fields.
	bad := first
	bad.Seq = 0
	err = c.RecordEvent(ctx, bad)
	var ie *client.Error
	if !errors.As(err, &ie) || ie.Status != 422 || ie.Code != "invalid_event" || len(ie.Errors) != 1 || ie.Errors[0].Field != "seq" || client.Temporary(err) {
		t.Fatalf("invalid event: %v", err)
	}

	// Only the service role may call.
	partner := client.New(srv.URL, &http.Client{Transport: bearer{mint(auth.Principal{Subject: "alice", Role: auth.RolePartner, Org: "opco-2i"})}})
	if err := partner.RecordEvent(ctx, first); !errors.As(err, &ie) || ie.Status != 403 || ie.Code != "forbidden_role" || client.Temporary(err) {
		t.Fatalf("partner: %v", err)
	}
	// An unusable token may be fixed by a new one: retried.
	anonymous := client.New(srv.URL, nil)
	if _, err := anonymous.FindOverlaps(ctx, request.OverlapQuery{}); !errors.As(err, &ie) || ie.Status != 401 || !client.Temporary(err) {
		t.Fatalf("no token: %v", err)
	}

	// The intake's database fails: a 500, retried.
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	_ = sqlDB.Close()
	if err := c.RecordEvent(ctx, submitted("r3", "M1805")); !errors.As(err, &ie) || ie.Status != 500 || !client.Temporary(err) {
		t.Fatalf("database down: %v", err)
	}

	// The intake is gone: a network error, retried.
	srv.Close()
	err = c.RecordEvent(ctx, first)
	if err == nil || errors.As(err, &ie) || !client.Temporary(err) {
		t.Fatalf("intake down: %v", err)
	}
}

func TestOverloadedIntake(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"status":429,"code":"rate_limited","detail":"slow down"}`))
	}))
	defer srv.Close()
	err := client.New(srv.URL, nil).RecordEvent(context.Background(), submitted("r1", "M1805"))
	var ie *client.Error
	if !errors.As(err, &ie) || ie.Status != 429 || ie.Code != "rate_limited" || ie.RetryAfter != 7*time.Second || !client.Temporary(err) {
		t.Fatalf("429: %v", err)
	}
	if client.Temporary(nil) {
		t.Fatal("no error is not a temporary error")
	}
}
