package importer

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// brokenCopy links every official file into a temp folder, replacing one (by base name
// without .gz) with the output of edit applied to its uncompressed content (nil: removed).
func brokenCopy(t *testing.T, file string, edit func(string) string) string {
	t.Helper()
	src, dst := dataDir(t), t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.TrimSuffix(name, ".gz") != file {
			if err := os.Symlink(filepath.Join(src, name), filepath.Join(dst, name)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if edit == nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if raw, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dst, file), []byte(edit(string(raw))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func readErr(t *testing.T, dir string) *romecsv.Error {
	t.Helper()
	_, err := Read(dir, slog.New(slog.DiscardHandler))
	var fe *romecsv.Error
	if !errors.As(err, &fe) {
		t.Fatalf("want a located error, got %v", err)
	}
	return fe
}

func TestImportErrorsAreLocated(t *testing.T) {
	t.Parallel()
	const fiches = "unix_referentiel_code_rome_v460_utf8.csv"
	const mobilites = "unix_rubrique_mobilite_v460_utf8.csv"
	cases := []struct {
		name         string
		file         string
		edit         func(string) string
		wantFile     string
		wantLine     int
		wantColumn   string
		wantContains string
	}{
		{"missing file", mobilites, nil, mobilites, 0, "", "missing"},
		{"renamed column", fiches, func(s string) string { return strings.Replace(s, `"libelle_rome"`, `"libelle"`, 1) },
			fiches, 1, "libelle_rome", `"libelle"`},
		{"extra column", mobilites, func(s string) string {
			return strings.Replace(s, `"numero_ordre"`+"\n", `"numero_ordre","x"`+"\n", 1)
		}, mobilites, 1, "x", "extra column"},
		{"short record", mobilites, func(s string) string {
			lines := strings.SplitN(s, "\n", 4)
			lines[2] = `"A1101","A1201"`
			return strings.Join(lines, "\n")
		}, mobilites, 3, "numero_ordre", "2 fields"},
		{"broken reference", mobilites, func(s string) string {
			lines := strings.SplitN(s, "\n", 4)
			lines[2] = `"A1101","Z9999","5"`
			return strings.Join(lines, "\n")
		}, mobilites, 3, "code_rome_cible", "Z9999"},
		{"duplicate key", mobilites, func(s string) string {
			lines := strings.SplitN(s, "\n", 3)
			return lines[0] + "\n" + lines[1] + "\n" + lines[1] + "\n" + lines[2]
		}, mobilites, 3, "code_rome", "duplicate"},
		{"malformed code ROME", fiches, func(s string) string { return strings.Replace(s, `"A1101","11"`, `"a1101","11"`, 1) },
			fiches, 2, "code_rome", "not a code ROME"},
		{"unquoted garbage", mobilites, func(s string) string { return strings.Replace(s, `"A1101","A1102"`, `"A1101"x"A1102"`, 1) },
			mobilites, 2, "", "malformed CSV"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fe := readErr(t, brokenCopy(t, strings.TrimSuffix(c.file, ".gz"), c.edit))
			if fe.File != c.wantFile || fe.Line != c.wantLine || fe.Column != c.wantColumn || !strings.Contains(fe.Error(), c.wantContains) {
				t.Errorf("got %q (file %s line %d column %q)", fe.Error(), fe.File, fe.Line, fe.Column)
			}
		})
	}
}

func TestReadZipWithGzipAndLatin9(t *testing.T) {
	t.Parallel()
	// The official archive is a zip; one of its files is ISO-8859-15 despite its name.
	src := dataDir(t)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		name := e.Name()
		if name == "unix_arborescence_secteur_naf_v460_utf8.csv" {
			if raw, err = charmap.ISO8859_15.NewEncoder().Bytes(raw); err != nil { // back to Latin-9, as published
				t.Fatal(err)
			}
		}
		if name == "SOURCE.md" {
			continue
		}
		w, _ := zw.Create("RefRomeCsv/" + name)
		w.Write(raw)
	}
	zw.Close()
	p := filepath.Join(t.TempDir(), "RefRomeCsv.zip")
	os.WriteFile(p, buf.Bytes(), 0o644)
	rel, err := Read(p, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	utf8, err := Read(src, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	got, want := rel.Snapshot.T(romecsv.FicheSecteurNaf), utf8.Snapshot.T(romecsv.FicheSecteurNaf)
	if got.Len() != want.Len() {
		t.Fatalf("NAF rows: %d, want %d", got.Len(), want.Len())
	}
	for i, w := range want.Rows() {
		if g := got.Row(i); strings.Join(g.Cols, "|") != strings.Join(w.Cols, "|") {
			t.Fatalf("row %d decoded as %q, want %q", i+1, g.Cols, w.Cols)
		}
	}
}
