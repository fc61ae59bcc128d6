// Package delta writes the delta file of a referential version: for each RefRomeCsv file
// the version touched, the rows it opened and the rows it closed, in the official CSV
// layout, plus a manifest. A consumer who holds the files of the previous version applies
// it without re-downloading the referential:
//
//  1. for each file of the manifest, remove every row of closed/<dataset>.csv (rows are
//     whole and unique: match them on every column, or on the key columns listed);
//  2. a row of opened/<dataset>.csv whose key was just closed takes that row's place (it
//     is an update); the others are appended, in the order of the file.
//
// The result is, row for row and in order, the export of the new version. The delta of
// the first version (the official import) opens every row of the release and closes
// none: its fromVersion is 0, the empty referential.
package delta

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// Format names the layout of the zip; it changes if the layout ever does.
const Format = "rome-delta/1"

// ManifestName is the manifest's name in the zip.
const ManifestName = "manifest.json"

// Manifest describes a delta: the versions it goes from and to, where the new version
// came from, and every file it touches.
type Manifest struct {
	Format      string    `json:"format"`
	FromVersion int       `json:"fromVersion"` // 0: the empty referential (the first import's delta)
	ToVersion   int       `json:"toVersion"`
	Label       string    `json:"label"`
	Source      string    `json:"source"` // "import" or "changeset"
	ChangesetID *string   `json:"changesetId"`
	RequestID   *string   `json:"requestId"`
	PublishedAt time.Time `json:"publishedAt"`
	Files       []File    `json:"files"`
	// Correspondences are the appellations the version removed with a replacement: a
	// consumer recodes what carried CodeOgr with ReplacedBy.CodeOgr.
	Correspondences []Correspondence `json:"correspondences"`
}

// Correspondence is an appellation removed with a replacement, both as they were in the
// version that removed the first.
type Correspondence struct {
	Version     int         `json:"version"`
	PublishedAt time.Time   `json:"publishedAt"`
	CodeOgr     string      `json:"codeOgr"`
	Libelle     string      `json:"libelle"`
	CodeRome    string      `json:"codeRome"` // the fiche it was on
	ReplacedBy  Appellation `json:"replacedBy"`
	ChangesetID string      `json:"changesetId"`
	RequestID   string      `json:"requestId,omitempty"`
}

// Appellation is an appellation and the fiche it is on.
type Appellation struct {
	CodeOgr  string `json:"codeOgr"`
	Libelle  string `json:"libelle"`
	CodeRome string `json:"codeRome"`
}

// File is one RefRomeCsv file the version touched.
type File struct {
	Dataset  string   `json:"dataset"`
	FromFile string   `json:"fromFile,omitempty"` // the official file name at fromVersion
	ToFile   string   `json:"toFile"`             // the official file name at toVersion
	Columns  []string `json:"columns"`
	Key      []string `json:"key"`
	Opened   Part     `json:"opened"`
	Closed   Part     `json:"closed"`
}

// Part is the CSV of the rows opened, or closed, in one file.
type Part struct {
	Path   string `json:"path"`
	Rows   int    `json:"rows"`
	SHA256 string `json:"sha256"` // of the CSV file as stored in the zip
}

// Writer writes a delta zip. Feed it rows grouped by file, each file's opened rows
// before its closed ones (store.EachVersionRow's order), then Close it.
type Writer struct {
	zw       *zip.Writer
	manifest Manifest
	modified time.Time

	file    *File // the file being written, nil before the first row
	part    *Part // its part being written
	csv     *romecsv.Writer
	sum     hash.Hash
	written map[string]bool // datasets done, to refuse rows out of order
}

// NewWriter starts a delta zip on w. Entries are dated with the version's publication,
// so the same delta is the same bytes every time it is built.
func NewWriter(w io.Writer, m Manifest) *Writer {
	m.Format = Format
	m.Files = []File{}
	if m.Correspondences == nil {
		m.Correspondences = []Correspondence{}
	}
	return &Writer{zw: zip.NewWriter(w), manifest: m, modified: m.PublishedAt, written: map[string]bool{}}
}

// Row adds a row the version opened (opened) or closed.
func (w *Writer) Row(ds *romecsv.Dataset, opened bool, cols []string) error {
	if w.file == nil || w.file.Dataset != ds.Name {
		if w.written[ds.Name] {
			return fmt.Errorf("delta: rows of %s are not grouped", ds.Name)
		}
		if err := w.endFile(); err != nil {
			return err
		}
		w.startFile(ds)
	}
	if w.part == nil {
		if err := w.startPart(ds, &w.file.Opened, "opened/"); err != nil {
			return err
		}
	}
	if !opened && w.part == &w.file.Opened {
		if err := w.startPart(ds, &w.file.Closed, "closed/"); err != nil {
			return err
		}
	} else if opened && w.part != &w.file.Opened {
		return fmt.Errorf("delta: an opened row of %s after its closed ones", ds.Name)
	}
	w.part.Rows++
	return w.csv.Write(cols)
}

func (w *Writer) startFile(ds *romecsv.Dataset) {
	f := File{Dataset: ds.Name, ToFile: ds.FileName(w.manifest.ToVersion), Columns: ds.Columns, Key: ds.KeyCols}
	if w.manifest.FromVersion > 0 {
		f.FromFile = ds.FileName(w.manifest.FromVersion)
	}
	w.file = &f
	w.written[ds.Name] = true
	w.part = nil
}

// startPart ends the part being written and starts p, header first.
func (w *Writer) startPart(ds *romecsv.Dataset, p *Part, dir string) error {
	if err := w.endPart(); err != nil {
		return err
	}
	p.Path = dir + ds.Name + ".csv"
	out, err := w.zw.CreateHeader(&zip.FileHeader{Name: p.Path, Method: zip.Deflate, Modified: w.modified})
	if err != nil {
		return err
	}
	w.sum = sha256.New()
	w.part = p
	w.csv, err = romecsv.NewWriter(io.MultiWriter(out, w.sum), ds)
	return err
}

func (w *Writer) endPart() error {
	if w.part == nil {
		return nil
	}
	if err := w.csv.Flush(); err != nil {
		return err
	}
	w.part.SHA256 = hex.EncodeToString(w.sum.Sum(nil))
	return nil
}

// endFile finishes the file being written: both parts are always there, a side without
// rows being its header alone, so a consumer never tests for a missing file.
func (w *Writer) endFile() error {
	if w.file == nil {
		return nil
	}
	ds := romecsv.MustByName(w.file.Dataset)
	if w.part == nil {
		if err := w.startPart(ds, &w.file.Opened, "opened/"); err != nil {
			return err
		}
	}
	if w.part == &w.file.Opened {
		if err := w.startPart(ds, &w.file.Closed, "closed/"); err != nil {
			return err
		}
	}
	if err := w.endPart(); err != nil {
		return err
	}
	w.manifest.Files = append(w.manifest.Files, *w.file)
	w.file, w.part = nil, nil
	return nil
}

// Close writes the manifest and finishes the zip.
func (w *Writer) Close() error {
	if err := w.endFile(); err != nil {
		return err
	}
	out, err := w.zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: w.modified})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w.manifest); err != nil {
		return err
	}
	return w.zw.Close()
}
