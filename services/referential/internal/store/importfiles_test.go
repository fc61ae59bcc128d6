package store_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// ImportFiles stores the datasets while it reads the rest: the whole release arrives, and a
// release that fails its checks once every dataset was stored leaves the referential empty.
func TestImportFiles(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			log := slog.New(slog.DiscardHandler)

			s := store.New(dbtest.Open(t, d))
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			// Every fiche gone: the appellations and the rest point at nothing, which only
			// the checks after the last dataset was read find.
			broken := exportWithout(t, romedata.Dir(t), "unix_referentiel_code_rome_v460_utf8.csv")
			_, _, err := s.ImportFiles(ctx, broken, log, false)
			var invalid *romecsv.Error
			if !errors.As(err, &invalid) {
				t.Fatalf("a release whose links are broken must be refused with the file and line, got %v", err)
			}
			if v, err := s.Latest(ctx); !errors.Is(err, store.ErrNoVersion) {
				t.Fatalf("a refused release left version %+v (%v)", v, err)
			}
			if rows := store.RowCount(t, s); rows != 0 {
				t.Fatalf("a refused release left %d rows", rows)
			}

			outcome, n, err := s.ImportFiles(ctx, romedata.Dir(t), log, false)
			if err != nil || outcome != store.Imported || n != 60 {
				t.Fatalf("import: %v %v %d", err, outcome, n)
			}
			loaded, err := s.Load(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range romedata.Release(t).Snapshot.Counts() {
				if got := loaded.T(name).Len(); got != want {
					t.Errorf("%s: %d rows stored, the release has %d", name, got, want)
				}
			}
			if outcome, _, err := s.ImportFiles(ctx, romedata.Dir(t), log, false); err != nil || outcome != store.AlreadyImported {
				t.Fatalf("the same release again: %v %v", outcome, err)
			}
		})
	}
}

// exportWithout links the official export into a temporary folder, with file cut down to
// its header line.
func exportWithout(t *testing.T, dir, file string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src := filepath.Join(dir, e.Name())
		if e.Name() != file {
			if err := os.Symlink(src, filepath.Join(dst, e.Name())); err != nil {
				t.Fatal(err)
			}
			continue
		}
		raw, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		header, _, _ := strings.Cut(string(raw), "\n")
		if err := os.WriteFile(filepath.Join(dst, file), []byte(header+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
