package romecsv

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Error locates a problem in an official file.
type Error struct {
	File   string
	Line   int    // 1-based, 0 when the whole file is concerned
	Column string // column name, "" when the whole line is concerned
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Source is an official RefRomeCsv export: a folder or a zip, with plain or .gz files.
type Source struct {
	fsys  fs.FS
	names []string
	close func() error
}

// Open opens a folder or a .zip file.
func Open(p string) (*Source, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return newSource(os.DirFS(p), func() error { return nil })
	}
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("%s: not a folder nor a readable zip: %w", p, err)
	}
	return newSource(zr, zr.Close)
}

func newSource(fsys fs.FS, closer func() error) (*Source, error) {
	s := &Source{fsys: fsys, close: closer}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			s.names = append(s.names, p)
		}
		return nil
	})
	if err != nil {
		closer()
		return nil, err
	}
	return s, nil
}

// Close releases the zip, if any.
func (s *Source) Close() error { return s.close() }

// find returns the path of the file whose base name matches re (possibly in a sub-folder
// of a zip, as official archives sometimes nest one).
func (s *Source) find(re *regexp.Regexp) (string, bool) {
	for _, n := range s.names {
		if re.MatchString(path.Base(n)) {
			return n, true
		}
	}
	return "", false
}

func (s *Source) open(name string) (io.ReadCloser, error) {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(name, ".gz") {
		return f, nil
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, &Error{File: path.Base(name), Msg: "not a valid gzip file: " + err.Error()}
	}
	return readCloser{gz, func() error { gz.Close(); return f.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// VersionFile returns the raw content of version.txt.
func (s *Source) VersionFile() ([]byte, error) {
	name, ok := s.find(regexp.MustCompile(`^version\.txt$`))
	if !ok {
		return nil, &Error{File: "version.txt", Msg: "missing from the export"}
	}
	r, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// ReadDataset calls fn for every record of a dataset, after checking the header. The
// version number selects the file name (v4NN); files are UTF-8, except that a file which
// is not valid UTF-8 is read as ISO-8859-15, as France Travail has shipped such files.
func (s *Source) ReadDataset(d *Dataset, version int, fn func(line int, cols []string) error) error {
	want := d.FileName(version)
	re := regexp.MustCompile("^" + regexp.QuoteMeta(want) + `(\.gz)?$`)
	name, ok := s.find(re)
	if !ok {
		return &Error{File: want, Msg: "missing from the export"}
	}
	r, err := s.open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return &Error{File: want, Msg: "unreadable: " + err.Error()}
	}
	if !utf8.Valid(data) {
		if data, err = charmap.ISO8859_15.NewDecoder().Bytes(data); err != nil {
			return &Error{File: want, Msg: "neither UTF-8 nor ISO-8859-15"}
		}
	}
	cr := csv.NewReader(bufio.NewReader(bytes.NewReader(data)))
	cr.FieldsPerRecord = -1 // checked below, with the file's own column names
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return &Error{File: want, Line: 1, Msg: "empty file: the header is missing"}
	}
	if err != nil {
		return csvError(want, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if err := checkHeader(want, d, header); err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return csvError(want, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(d.Columns) {
			col := ""
			if len(rec) > len(d.Columns) {
				col = fmt.Sprintf("#%d (extra)", len(rec))
			} else {
				col = d.Columns[len(rec)]
			}
			return &Error{File: want, Line: line, Column: col, Msg: fmt.Sprintf("%d fields, want %d", len(rec), len(d.Columns))}
		}
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}

func checkHeader(file string, d *Dataset, header []string) error {
	for i, want := range d.Columns {
		if i >= len(header) {
			return &Error{File: file, Line: 1, Column: want, Msg: "column missing from the header"}
		}
		if header[i] != want {
			return &Error{File: file, Line: 1, Column: want, Msg: fmt.Sprintf("header has %q where %q is expected", header[i], want)}
		}
	}
	if len(header) > len(d.Columns) {
		return &Error{File: file, Line: 1, Column: header[len(d.Columns)], Msg: "unexpected extra column"}
	}
	return nil
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Line, Msg: fmt.Sprintf("malformed CSV at column %d: %v", pe.Column, pe.Err)}
	}
	return &Error{File: file, Msg: err.Error()}
}
