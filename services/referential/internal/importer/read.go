// Package importer reads an official RefRomeCsv export, checks it and turns it into a
// referential snapshot ready to be stored.
package importer

import (
	"fmt"
	"log/slog"
	"runtime"
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
func Read(path string, log *slog.Logger) (*Release, error) { return ReadTo(path, log, nil) }

// StoreDataset receives one dataset of a release as soon as it is parsed, before the
// release is checked.
type StoreDataset func(info romecsv.VersionInfo, ds *romecsv.Dataset, rows []refdata.Row) error

// ReadTo is Read that also hands each dataset to store (when not nil) as soon as it is
// parsed, one call at a time, while the others are still being parsed: storing overlaps
// reading. When ReadTo fails, store may have seen some datasets: the caller undoes them.
func ReadTo(path string, log *slog.Logger, store StoreDataset) (*Release, error) {
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
	// The datasets are parsed side by side, one per core at most; the first error in
	// dataset order is reported, as a sequential read would.
	read := make([]datasetRead, len(romecsv.Datasets))
	parsed := make(chan int, len(romecsv.Datasets))
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, ds := range romecsv.Datasets {
		go func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			start := time.Now()
			read[i] = readDataset(src, ds, info.Number)
			log.Info("read", "file", ds.FileName(info.Number), "rows", len(read[i].rows), "ms", time.Since(start).Milliseconds())
			parsed <- i
		}()
	}
	var storeErr error
	for range romecsv.Datasets {
		i := <-parsed
		if store != nil && storeErr == nil && read[i].err == nil {
			storeErr = store(info, romecsv.Datasets[i], read[i].rows)
		}
	}
	rows := make(map[string][]refdata.Row, len(romecsv.Datasets))
	where := lines{}
	for i, ds := range romecsv.Datasets {
		if read[i].err != nil {
			return nil, read[i].err
		}
		rows[ds.Name], where[ds.Name] = read[i].rows, read[i].lines
	}
	if storeErr != nil {
		return nil, storeErr
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

// datasetRead is one dataset's rows, the line each came from, or why it could not be read.
type datasetRead struct {
	rows  []refdata.Row
	lines []int
	err   error
}

// readDataset parses one dataset of the export, refusing duplicate keys.
func readDataset(src *romecsv.Source, ds *romecsv.Dataset, version int) datasetRead {
	var out datasetRead
	seen := map[string]int{}
	out.err = src.ReadDataset(ds, version, func(line int, cols []string) error {
		k := ds.Key(cols)
		if first, dup := seen[k]; dup {
			return &romecsv.Error{File: ds.FileName(version), Line: line, Column: ds.KeyCols[0],
				Msg: fmt.Sprintf("duplicate key %q (first at line %d)", k, first)}
		}
		seen[k] = line
		out.rows = append(out.rows, refdata.Row{Cols: cols, Ord: int64(len(out.rows) + 1)})
		out.lines = append(out.lines, line)
		return nil
	})
	return out
}
