package store_test

import (
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

func TestCountByStatusCountsTheOverdueAmongEachStatus(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		t.Parallel()
		s := open(t, db)
		h := time.Hour
		for i, move := range []struct {
			status request.Status
			since  time.Duration
		}{
			{request.StatusAwaitingTriage, 1 * h}, {request.StatusAwaitingTriage, 3 * h}, {request.StatusInReview, 1 * h},
			{request.StatusWithdrawn, 1 * h}, {request.StatusSubmitted, 0},
		} {
			r := newRequest(string(rune('a'+i)), "opco-2i", "M1805", "A")
			if err := s.Create(t.Context(), r, nil); err != nil {
				t.Fatal(err)
			}
			if move.status != request.StatusSubmitted {
				at(t, s, r, 1, move.status, t0.Add(move.since))
			}
		}
		got, err := s.CountByStatus(t.Context(), []store.Wait{
			{Status: request.StatusAwaitingTriage, Since: t0.Add(2 * h)}, {Status: request.StatusInReview, Since: t0.Add(2 * h)},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []store.StatusCount{
			{Status: request.StatusAwaitingTriage, Total: 2, Overdue: 1}, {Status: request.StatusInReview, Total: 1, Overdue: 1},
			{Status: request.StatusSubmitted, Total: 1}, {Status: request.StatusWithdrawn, Total: 1},
		}
		if !slices.Equal(got, want) {
			t.Errorf("counts %+v, want %+v", got, want)
		}
	})
}
