// Command loadtest measures an HTTP endpoint: throughput and latency percentiles over
// several runs, reporting each run and the median (BENCHMARKS.md).
//
//	loadtest -url 'http://127.0.0.1:8082/v1/fiches/{}' -values-file codes.txt -c 32 -d 15s -runs 5
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/tools/loadtest"
)

func main() {
	var (
		cfg        loadtest.Config
		valuesFile string
		headers    multi
		runs       int
		pause      time.Duration
		asJSON     bool
	)
	flag.StringVar(&cfg.URL, "url", "", "target URL; {} is replaced by the values, round robin")
	flag.StringVar(&valuesFile, "values-file", "", "file with one value per line for {}")
	flag.StringVar(&cfg.Method, "method", "GET", "HTTP method")
	flag.Var(&headers, "H", "header 'Name: value' (repeatable)")
	flag.IntVar(&cfg.Concurrency, "c", 16, "concurrent requests")
	flag.Float64Var(&cfg.Rate, "rate", 0, "requests per second (open loop); 0 = as fast as possible")
	flag.DurationVar(&cfg.Duration, "d", 10*time.Second, "measured duration of a run")
	flag.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "unmeasured warm-up of a run")
	flag.IntVar(&runs, "runs", 5, "number of runs (the median is reported)")
	flag.DurationVar(&pause, "pause", time.Second, "pause between runs")
	flag.BoolVar(&asJSON, "json", false, "print the median report as JSON")
	flag.Parse()
	if cfg.URL == "" {
		fail("-url is required")
	}
	if valuesFile != "" {
		vs, err := readLines(valuesFile)
		if err != nil {
			fail(err.Error())
		}
		cfg.Values = vs
	}
	cfg.Header = http.Header{}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			fail("header without a colon: " + h)
		}
		cfg.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	var reports []loadtest.Report
	for i := 1; i <= runs; i++ {
		r, err := loadtest.Run(context.Background(), cfg)
		if err != nil {
			fail(err.Error())
		}
		fmt.Fprintf(os.Stderr, "run %d/%d: %s\n", i, runs, r)
		if r.FirstError != "" {
			fmt.Fprintf(os.Stderr, "  first error: %s\n", r.FirstError)
		}
		reports = append(reports, r)
		time.Sleep(pause)
	}
	med := median(reports)
	if asJSON {
		json.NewEncoder(os.Stdout).Encode(med)
		return
	}
	fmt.Printf("median of %d runs: %s\n", runs, med)
}

// median takes each figure's median across runs independently.
func median(rs []loadtest.Report) loadtest.Report {
	pick := func(f func(loadtest.Report) float64) float64 {
		vs := make([]float64, len(rs))
		for i, r := range rs {
			vs[i] = f(r)
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	dur := func(f func(loadtest.Report) time.Duration) time.Duration {
		return time.Duration(pick(func(r loadtest.Report) float64 { return float64(f(r)) }))
	}
	return loadtest.Report{
		Requests:   int64(pick(func(r loadtest.Report) float64 { return float64(r.Requests) })),
		Errors:     int64(pick(func(r loadtest.Report) float64 { return float64(r.Errors) })),
		Duration:   dur(func(r loadtest.Report) time.Duration { return r.Duration }),
		Throughput: pick(func(r loadtest.Report) float64 { return r.Throughput }),
		P50:        dur(func(r loadtest.Report) time.Duration { return r.P50 }),
		P90:        dur(func(r loadtest.Report) time.Duration { return r.P90 }),
		P99:        dur(func(r loadtest.Report) time.Duration { return r.P99 }),
		Max:        dur(func(r loadtest.Report) time.Duration { return r.Max }),
	}
}

func readLines(p string) ([]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ", ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "loadtest:", msg)
	os.Exit(2)
}
