// Command copyloader is the floor of the referential's import for sidebyside: it loads every
// CSV file of an official ROME release into PostgreSQL as bare as it gets — one table of
// text columns per file, filled by COPY in one transaction, then an index on each code
// column — and checks nothing.
//
//	copyloader -database-url postgres://… <folder>
package main

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

func main() {
	dbURL := flag.String("database-url", "", "an empty PostgreSQL database")
	flag.Parse()
	if err := load(context.Background(), *dbURL, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "copyloader:", err)
		os.Exit(1)
	}
}

func load(ctx context.Context, dbURL, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.csv*"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CSV file in %q: %v", dir, err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, f := range files {
		if err := copyFile(ctx, tx, f); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
	}
	return tx.Commit(ctx)
}

// copyFile loads one file into a table named after it and indexes its code columns.
func copyFile(ctx context.Context, tx pgx.Tx, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		r = gz
	}
	rd := csv.NewReader(r)
	header, err := rd.Read()
	if err != nil {
		return err
	}
	table := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".gz"), ".csv")
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = pgx.Identifier{h}.Sanitize() + " text"
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", pgx.Identifier{table}.Sanitize(), strings.Join(cols, ", "))); err != nil {
		return err
	}
	rows, err := rd.ReadAll()
	if err != nil {
		return err
	}
	values := make([][]any, len(rows))
	for i, row := range rows {
		values[i] = make([]any, len(row))
		for j, v := range row {
			values[i][j] = v
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, header, pgx.CopyFromRows(values)); err != nil {
		return err
	}
	for _, h := range header {
		if strings.HasPrefix(h, "code_") {
			if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE INDEX ON %s (%s)", pgx.Identifier{table}.Sanitize(), pgx.Identifier{h}.Sanitize())); err != nil {
				return err
			}
		}
	}
	return nil
}
