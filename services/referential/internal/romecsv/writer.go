package romecsv

import (
	"bufio"
	"io"
	"strings"
)

// Writer writes rows the way the official export does: every field double-quoted,
// comma-separated, LF line endings, header first.
type Writer struct {
	w *bufio.Writer
}

// NewWriter writes the header of d and returns a writer for its rows.
func NewWriter(w io.Writer, d *Dataset) (*Writer, error) {
	cw := &Writer{w: bufio.NewWriterSize(w, 64<<10)}
	return cw, cw.Write(d.Columns)
}

// Write writes one record.
func (cw *Writer) Write(rec []string) error {
	for i, f := range rec {
		if i > 0 {
			cw.w.WriteByte(',')
		}
		cw.w.WriteByte('"')
		cw.w.WriteString(strings.ReplaceAll(f, `"`, `""`))
		cw.w.WriteByte('"')
	}
	return cw.w.WriteByte('\n')
}

// Flush writes any buffered data.
func (cw *Writer) Flush() error { return cw.w.Flush() }
