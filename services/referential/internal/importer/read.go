// Package importer reads an official RefRomeCsv export, checks it and turns it into a
// referential snapshot ready to be stored.
package importer

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// Release is an official export once read and checked.
type Release struct {
	Info     romecsv.VersionInfo
	Snapshot *refdata.Snapshot
}

// lines remembers where each row came from, to report integrity errors precisely.
type lines map[string][]int

// Read parses every dataset of the export at path (folder or zip) and checks referential
// integrity. Progress goes to log.
func Read(path string, log *slog.Logger) (*Release, error) {
	src, err := romecsv.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	raw, err := src.VersionFile()
	if err != nil {
		return nil, err
	}
	info, err := romecsv.ParseVersion(raw)
	if err != nil {
		return nil, err
	}
	rows := make(map[string][]refdata.Row, len(romecsv.Datasets))
	where := lines{}
	for i, ds := range romecsv.Datasets {
		start := time.Now()
		seen := map[string]int{}
		var dsRows []refdata.Row
		var dsLines []int
		err := src.ReadDataset(ds, info.Number, func(line int, cols []string) error {
			k := ds.Key(cols)
			if first, dup := seen[k]; dup {
				return &romecsv.Error{File: ds.FileName(info.Number), Line: line, Column: ds.KeyCols[0],
					Msg: fmt.Sprintf("duplicate key %q (first at line %d)", k, first)}
			}
			seen[k] = line
			dsRows = append(dsRows, refdata.Row{Cols: cols, Ord: int64(len(dsRows) + 1)})
			dsLines = append(dsLines, line)
			return nil
		})
		if err != nil {
			return nil, err
		}
		rows[ds.Name], where[ds.Name] = dsRows, dsLines
		log.Info("read", "file", ds.FileName(info.Number), "rows", len(dsRows), "step", fmt.Sprintf("%d/%d", i+1, len(romecsv.Datasets)), "ms", time.Since(start).Milliseconds())
	}
	if err := checkIntegrity(info.Number, rows, where); err != nil {
		return nil, err
	}
	snap, err := refdata.New(refdata.Version{Number: info.Number, Label: info.Label, PublishedAt: info.PublishedAt, LastModified: info.PublishedAt}, rows)
	if err != nil {
		return nil, err
	}
	return &Release{Info: info, Snapshot: snap}, nil
}
