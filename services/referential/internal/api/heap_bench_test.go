package api_test

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"testing"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/api"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

var liveHeapProfile = flag.String("liveheap.profile", "", "file for the heap profile of BenchmarkLiveHeapV460's warmed referential")

// BenchmarkLiveHeapV460 measures the live heap of a referential serving v460 as the
// service does once started: the version read back from the database, then warmed (search
// indexes, WarmShapes of every fiche). live-MB is the heap still reachable after a
// collection, scan-MB the part of it holding pointers, which every collection scans;
// -liveheap.profile writes that heap's profile (BENCHMARKS.md, issue #11):
//
//	go test ./internal/api -run '^$' -bench LiveHeapV460 -benchtime 1x -memprofilerate 4096 -liveheap.profile heap.pprof
//	go tool pprof -top -sample_index=inuse_space heap.pprof
func BenchmarkLiveHeapV460(b *testing.B) {
	ctx := context.Background()
	st := importedV460(b)
	var live, scan uint64
	for b.Loop() {
		svc := app.New(st, slog.New(slog.DiscardHandler), app.Config{})
		if err := svc.Load(ctx); err != nil {
			b.Fatal(err)
		}
		svc.Current().Warm(api.WarmShapes)
		runtime.GC()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/heap:bytes"}}
		metrics.Read(sample)
		live, scan = sample[0].Value.Uint64(), sample[1].Value.Uint64()
		if *liveHeapProfile != "" {
			writeHeapProfile(b, *liveHeapProfile)
		}
		runtime.KeepAlive(svc)
	}
	b.ReportMetric(float64(live)/1e6, "live-MB")
	b.ReportMetric(float64(scan)/1e6, "scan-MB")
}

// importedV460 is a fresh SQLite store holding v460.
func importedV460(b *testing.B) *store.Store {
	ctx := context.Background()
	st := store.New(dbtest.Open(b, database.SQLite))
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	// A fresh read, not romedata's cached one, which would stay in the heap measured.
	if _, _, err := st.Import(ctx, romedata.ReadFresh(b), false); err != nil {
		b.Fatal(err)
	}
	return st
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
