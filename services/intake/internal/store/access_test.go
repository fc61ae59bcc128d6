package store_test

import (
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/access"
)

// The access requests' projection keeps the latest record of each request whatever the
// order records arrive in, and the first sign-in binds an approved applicant once.
func TestAccessProjectionAndFirstSignIn(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		ctx := t.Context()
		s := open(t, db)
		r := access.Request{ID: "acc_000000000000000000000001", Status: access.AwaitingVerification, Messages: []access.Message{},
			Application: access.Application{Name: "Claire", Email: "claire@opco.example", Domains: []string{"J"}},
			CreatedAt:   t0, UpdatedAt: t0}
		record := func(seq int, st access.Status) {
			t.Helper()
			r.Seq, r.Status = seq, st
			if err := s.RecordAccess(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		record(0, access.AwaitingVerification)
		record(2, access.AwaitingReview)
		record(1, access.AwaitingVerification) // late: changes nothing
		got, err := s.AccessRequest(ctx, r.ID)
		if err != nil || got.Seq != 2 || got.Status != access.AwaitingReview {
			t.Fatalf("projection %+v %v", got, err)
		}
		// Another state under the same Seq comes from the replay of a workflow task whose
		// worker died after writing the first: the replay is the truth.
		record(2, access.Expired)
		if got, err := s.AccessRequest(ctx, r.ID); err != nil || got.Seq != 2 || got.Status != access.Expired {
			t.Fatalf("projection after a replayed record %+v %v", got, err)
		}
		record(2, access.AwaitingReview)
		if open, err := s.OpenAccessRequest(ctx, "claire@opco.example", string(access.AwaitingReview)); err != nil || open.ID != r.ID {
			t.Fatalf("open request %+v %v", open, err)
		}
		if n, err := s.AccessRequestsFromSince(ctx, "claire@opco.example", t0.Add(-time.Hour)); err != nil || n != 1 {
			t.Fatalf("count %d %v", n, err)
		}
		if counts, err := s.AccessCounts(ctx); err != nil || counts[string(access.AwaitingReview)] != 1 {
			t.Fatalf("counts %v %v", counts, err)
		}
		if _, err := s.AccessRequest(ctx, "acc_000000000000000000000002"); !errors.Is(err, store.ErrNoAccessRequest) {
			t.Fatalf("missing request: %v", err)
		}

		invited := store.Person{Sub: access.PersonSub(r.ID), EntraID: "oid-claire", Name: "Claire", Email: "Claire@opco.example",
			Role: "partner", Active: true, Source: "access_request", Domains: []string{}, CreatedAt: t0, UpdatedAt: t0}
		if err := s.InsertPerson(ctx, invited); err != nil {
			t.Fatal(err)
		}
		if p, err := s.PersonByEmail(ctx, "claire@opco.example"); err != nil || p.Sub != invited.Sub {
			t.Fatalf("by e-mail %+v %v", p, err)
		}
		if p, err := s.InvitedPerson(ctx, "oid-claire"); err != nil || p.Sub != invited.Sub {
			t.Fatalf("invited %+v %v", p, err)
		}
		if err := s.BindSub(ctx, invited.Sub, "claire-sub", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.BindSub(ctx, invited.Sub, "someone-else", t0); !errors.Is(err, store.ErrNoPerson) {
			t.Fatalf("bound twice: %v", err)
		}
		if p, err := s.PersonBySub(ctx, "claire-sub"); err != nil || p.LastSeenAt == nil || p.EntraID != "oid-claire" {
			t.Fatalf("bound person %+v %v", p, err)
		}
		if _, err := s.InvitedPerson(ctx, "oid-claire"); !errors.Is(err, store.ErrNoPerson) {
			t.Fatalf("still invited: %v", err)
		}
	})
}
