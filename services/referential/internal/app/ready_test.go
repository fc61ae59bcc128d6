package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// A replica takes traffic only once its first searches and reads are as fast as the rest.
func TestReadyOnceTheStartingVersionIsWarm(t *testing.T) {
	t.Parallel()
	svc := &Service{store: store.New(dbtest.Open(t, database.SQLite)), log: slog.New(slog.DiscardHandler), past: map[int]*State{}}
	ready := svc.ReadyCheck().Run
	if err := ready(t.Context()); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty: %v", err)
	}
	st := newState(romedata.V460(t))
	svc.current.Store(st)
	if err := ready(t.Context()); !errors.Is(err, errWarming) {
		t.Fatalf("loaded, not warmed: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		svc.Follow(ctx, time.Hour, map[Shape]func(*fiche.Fiche) any{ShapeFiche: func(f *fiche.Fiche) any { return f }})
	}()
	for deadline := time.Now().Add(time.Minute); ready(t.Context()) != nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not ready a minute after following")
		}
	}
	cancel()
	<-followed
	if st.indexes == nil {
		t.Error("ready before the search indexes were built")
	}
	if d, _ := st.Doc("M1805"); d.encoded[ShapeFiche] == nil {
		t.Error("ready before the fiche documents were encoded")
	}
}
