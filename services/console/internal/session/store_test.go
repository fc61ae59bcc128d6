package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

// clock is a settable clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestStore(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, d database.Dialect) {
		ctx := context.Background()
		if err := database.Migrate(ctx, db, Component, Migrations); err != nil {
			t.Fatal(err)
		}
		clk := &clock{now: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}
		s := NewStore(db, clk.Now)
		alice := auth.Principal{Subject: "alice", Name: "Alice Martin", Role: auth.RolePartner, Org: "opco-2i"}

		// A token without refresh ends the session when it expires, before the maximum age.
		sess, err := s.Create(ctx, alice, "token-1", "", clk.now.Add(time.Hour), 10*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !sess.ExpiresAt.Equal(clk.now.Add(time.Hour)) || len(sess.ID) < 40 || len(sess.CSRF) < 40 || sess.ID == sess.CSRF {
			t.Fatalf("session %+v", sess)
		}
		got, err := s.Get(ctx, sess.ID)
		if err != nil || got.Person != alice || got.Token != "token-1" || got.CSRF != sess.CSRF {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		// Only the id's hash is stored: the cookie's value is nowhere in the table.
		var n int64
		if err := db.Table("console_sessions").Where("id_hash = ?", sess.ID).Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("the raw id is stored (%d rows, %v)", n, err)
		}
		if _, err := s.Get(ctx, sess.ID+"x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an unknown id: %v", err)
		}

		// A refreshable token lives up to the maximum age; a refresh is stored.
		long, err := s.Create(ctx, alice, "token-2", "refresh-2", clk.now.Add(time.Hour), 10*time.Hour)
		if err != nil || !long.ExpiresAt.Equal(clk.now.Add(10*time.Hour)) {
			t.Fatalf("refreshable session %+v, %v", long, err)
		}
		promoted := alice
		promoted.Org = "opco-atlas"
		if err := s.UpdateToken(ctx, long.ID, promoted, "token-3", "refresh-3", clk.now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, long.ID); err != nil || got.Token != "token-3" || got.RefreshToken != "refresh-3" || !got.TokenExpiry.Equal(clk.now.Add(2*time.Hour)) || got.Person != promoted {
			t.Fatalf("after the refresh: %+v, %v", got, err)
		}

		// Past its end a session is gone, and the sweep deletes it.
		clk.now = clk.now.Add(90 * time.Minute)
		if _, err := s.Get(ctx, sess.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an ended session: %v", err)
		}
		if deleted, err := s.DeleteExpired(ctx); err != nil || deleted != 1 {
			t.Fatalf("DeleteExpired = %d, %v", deleted, err)
		}
		// Sign-out deletes it; twice is no error.
		for range 2 {
			if err := s.Delete(ctx, long.ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Get(ctx, long.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a signed-out session: %v", err)
		}
	})
}
