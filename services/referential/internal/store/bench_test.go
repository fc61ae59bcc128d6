package store_test

import (
	"context"
	"log/slog"
	"testing"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// BenchmarkImport measures a full import of the official v460 into an empty referential
// (BENCHMARKS.md), as `referential import` does it: reading and checking the files included.
func BenchmarkImport(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := dbtest.Open(b, d)
				s := store.New(db)
				if err := s.Migrate(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, _, err := s.ImportFiles(context.Background(), romedata.Dir(b), slog.New(slog.DiscardHandler), false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad measures reading the current version back at start-up.
func BenchmarkLoad(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := dbtest.Open(b, d)
			s := imported(b, db)
			for b.Loop() {
				if _, err := s.Load(context.Background(), 60); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func imported(b *testing.B, db *gorm.DB) *store.Store {
	s := store.New(db)
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if _, _, err := s.Import(ctx, romedata.Release(b), false); err != nil {
		b.Fatal(err)
	}
	return s
}
