package api_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/app"
)

// searchQueries is the load test's query list (tools/loadtest's sidebyside).
const searchQueries = "../../../../tools/loadtest/cmd/sidebyside/search-queries.txt"

// BenchmarkSearchV460 times each query of the load test on the v460 appellations, as the
// search route runs it (the hits described with their fiche): the search p99 under load
// is the slowest queries' time (BENCHMARKS.md, issue #11).
//
//	go test ./internal/api -run '^$' -bench SearchV460 -benchtime 200x
func BenchmarkSearchV460(b *testing.B) {
	svc := app.New(importedV460(b), slog.New(slog.DiscardHandler), app.Config{})
	if err := svc.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	queries, err := os.ReadFile(searchQueries)
	if err != nil {
		b.Fatal(err)
	}
	st := svc.Current()
	st.Search("appellations", "warm", 20)
	for _, q := range strings.Split(strings.TrimSpace(string(queries)), "\n") {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if hits, _ := st.Search("appellations", q, 20); len(hits) == 0 {
					b.Fatalf("no hit for %q", q)
				}
			}
		})
	}
}
