// Package romedata gives tests the official ROME 4.0 export (shared/data/rome4, or
// ROME_DATA_DIR), read once per test binary.
package romedata

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/importer"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
)

// Dir returns the folder of the official export the tests read.
func Dir(t testing.TB) string {
	if d := os.Getenv("ROME_DATA_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "../../../../../shared/data/rome4")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("official ROME data not found at %s (set ROME_DATA_DIR): %v", d, err)
	}
	return d
}

var (
	once    sync.Once
	release *importer.Release
	readErr error
)

// Release reads the official export once.
func Release(t testing.TB) *importer.Release {
	once.Do(func() { release, readErr = importer.Read(Dir(t), slog.New(slog.DiscardHandler)) })
	if readErr != nil {
		t.Fatal(readErr)
	}
	return release
}

// V460 is the snapshot of the official export.
func V460(t testing.TB) *refdata.Snapshot { return Release(t).Snapshot }

// ReadFresh reads and checks the official export again (for benchmarks of the import).
func ReadFresh(t testing.TB) *importer.Release {
	rel, err := importer.Read(Dir(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return rel
}
