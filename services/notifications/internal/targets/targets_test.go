package targets

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/app"
)

func TestServiceTargets(t *testing.T) {
	t.Parallel()
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
			<-r.Context().Done() // answers only once the client has given up
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
	tg := New(intake.URL+"/", referential.URL, &http.Client{Timeout: 100 * time.Millisecond})
	if err := tg.RequestVisible(ctx, "alice-token", "req-1"); err != nil {
		t.Errorf("visible request: %v", err)
	}
	if err := tg.RequestVisible(ctx, "bob-token", "req-1"); !errors.Is(err, app.ErrTargetNotFound) {
		t.Errorf("request of another organisation: %v", err)
	}
	if err := tg.RequestVisible(ctx, "alice-token", "a/b?c"); !errors.Is(err, app.ErrTargetNotFound) {
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
		if err := tg.RequestVisible(ctx, "alice-token", id); err == nil || errors.Is(err, app.ErrTargetNotFound) {
			t.Errorf("%s: %v, want an error other than not found", id, err)
		}
	}
	if err := tg.FicheExists(ctx, "M1805"); err != nil {
		t.Errorf("existing fiche: %v", err)
	}
	if err := tg.FicheExists(ctx, "A9999"); !errors.Is(err, app.ErrTargetNotFound) {
		t.Errorf("unknown fiche: %v", err)
	}

	intake.Close()
	referential.Close()
	if err := tg.RequestVisible(ctx, "alice-token", "req-1"); err == nil || errors.Is(err, app.ErrTargetNotFound) {
		t.Errorf("intake down: %v", err)
	}
	if err := tg.FicheExists(ctx, "M1805"); err == nil || errors.Is(err, app.ErrTargetNotFound) {
		t.Errorf("referential down: %v", err)
	}
}
