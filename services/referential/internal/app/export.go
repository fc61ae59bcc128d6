package app

import (
	"archive/zip"
	"context"
	"io"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

func formatVersionFile(v store.VersionRecord) []byte {
	return romecsv.FormatVersion(romecsv.VersionInfo{Number: v.Number, Label: v.Label, PublishedAt: v.PublishedAt})
}

// Export writes the version st holds as a RefRomeCsv zip: the official file names and
// columns, every field quoted, UTF-8, LF, plus version.txt (the next release's names it as
// it would be published).
func (s *Service) Export(ctx context.Context, st *State, w io.Writer) error {
	n := st.Version()
	var vf []byte
	if st.pending != nil {
		vf = formatVersionFile(st.pending.record)
	} else {
		var err error
		if vf, err = s.VersionFile(ctx, n); err != nil {
			return err
		}
	}
	zw := zip.NewWriter(w)
	f, err := zw.Create("version.txt")
	if err != nil {
		return err
	}
	if _, err := f.Write(vf); err != nil {
		return err
	}
	for _, ds := range romecsv.Datasets {
		f, err := zw.Create(ds.FileName(n))
		if err != nil {
			return err
		}
		cw, err := romecsv.NewWriter(f, ds)
		if err != nil {
			return err
		}
		for _, r := range st.Snap.T(ds.Name).Rows() {
			if err := cw.Write(r.Cols); err != nil {
				return err
			}
		}
		if err := cw.Flush(); err != nil {
			return err
		}
	}
	return zw.Close()
}
