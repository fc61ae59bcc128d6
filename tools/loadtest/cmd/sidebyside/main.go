// Command sidebyside measures the platform against floor programs that do the same work
// bare, alternating them in one run on one stack, and prints the ratios (issue #11;
// BENCHMARKS.md, "Ratios to the floor"). Machines differ from one day to the next: only
// ratios measured in the same run are compared.
//
// Scenarios (-scenarios, default all):
//
//   - import: `referential import` of the official release into a new PostgreSQL database
//     and into a new SQLite file, against copyloader's bare COPY of the same files into
//     PostgreSQL (tables of text columns and an index per code column).
//
//   - reads: GET /v1/fiches/{code} and France Travail's metier/{code} under wrk (32
//     connections going round every code ROME) against their floor, tools/loadtest's
//     floorserver (Gin answering every path with one prebuilt body of a real fiche's size);
//     the server's CPU per request and RSS. Appellation search under wrk (8 connections) and
//     the first search after the referential starts, with no floor: their goal is absolute.
//
//   - submit: POST /v1/requests against its floor, a bare ExecuteWorkflow of the same
//     workflow, with the same input and start options, on a task queue no worker polls: the
//     Temporal start alone. At concurrency 1 and 16, closed loop. The platform's figure
//     includes what the worker does for each request beside it (checks, Teams channel,
//     notifications). After each phase the stack is drained of that backlog, and the CPU
//     time each member of the stack spent per submission, backlog included, is printed.
//     A third phase, concurrency 1 with the worker stopped, measures the submission's own
//     path (intake and start) without that processing beside it.
//
// It needs wrk (Debian package wrk).
//
//	go run ./tools/loadtest/cmd/sidebyside [-scenarios import,reads,submit] [-database-url postgres://…] [-rounds 3] [-d 10s] [-repo ../other-checkout]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/tools/loadtest/benchstack"
)

func main() {
	var (
		scenarios = flag.String("scenarios", "import,reads,submit", "the scenarios to run, comma-separated")
		dbURL     = flag.String("database-url", "", "a fresh, empty PostgreSQL database; default: the default stack's SQLite files")
		repo      = flag.String("repo", "", "the checkout whose platform is measured; default: this one")
		rounds    = flag.Int("rounds", 3, "alternations of floor and platform; the medians are printed")
		dur       = flag.Duration("d", 10*time.Second, "measured duration of each phase")
		warmup    = flag.Duration("warmup", 2*time.Second, "unmeasured start of each load-generator phase")
	)
	flag.Parse()
	if err := run(strings.Split(*scenarios, ","), *dbURL, *repo, *rounds, phaseTimes{*dur, *warmup}); err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}

// phaseTimes is how long each measured phase lasts.
type phaseTimes struct{ measured, warmup time.Duration }

// sample is the outcome of one measured phase: a load (rate and latencies, and the
// server's CPU time per request when measured) or a single run (took).
type sample struct {
	rate     float64
	p50, p99 time.Duration
	cpu      time.Duration
	took     time.Duration
}

func (s sample) String() string {
	if s.took > 0 {
		return "took " + s.took.Round(10*time.Millisecond).String()
	}
	str := fmt.Sprintf("%.0f/s, p50 %s, p99 %s", s.rate, s.p50.Round(10*time.Microsecond), s.p99.Round(10*time.Microsecond))
	if s.cpu > 0 {
		str += fmt.Sprintf(", server CPU %s/req", s.cpu.Round(time.Microsecond))
	}
	return str
}

// comparison is one line of the table: the platform and the floor doing the same work
// (floor nil: the goal is absolute). prepare runs before each phase of either.
type comparison struct {
	what            string
	floor, platform func(context.Context) (sample, error)
	prepare         func(context.Context) error
}

// scenario builds its comparisons on the running stack; close releases what it started.
type scenario func(ctx context.Context, stack *benchstack.Stack, t phaseTimes) (cs []comparison, close func(), err error)

var allScenarios = map[string]scenario{"import": newImport, "reads": newReads, "submit": newSubmit}

func run(names []string, dbURL, repo string, rounds int, t phaseTimes) error {
	ctx := context.Background()
	stack, err := benchstack.Start(ctx, repo, dbURL)
	if err != nil {
		return err
	}
	defer stack.Stop()
	store := "SQLite files (default stack)"
	if dbURL != "" {
		store = "PostgreSQL"
	}
	fmt.Printf("machine: %s\nstack: %s, Temporal dev server; %d rounds of %s per phase\n",
		benchstack.Machine(), store, rounds, t.measured)
	for _, name := range names {
		sc, ok := allScenarios[name]
		if !ok {
			return fmt.Errorf("no scenario %q", name)
		}
		cs, closeScenario, err := sc(ctx, stack, t)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		err = compare(ctx, cs, rounds)
		closeScenario()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// compare runs every comparison rounds times, the floor and the platform alternately
// (neither always first), and prints the medians and their ratios.
func compare(ctx context.Context, cs []comparison, rounds int) error {
	type samples struct{ floor, platform []sample }
	results := make([]samples, len(cs))
	for round := 1; round <= rounds; round++ {
		for i, c := range cs {
			sides := []struct {
				name string
				run  func(context.Context) (sample, error)
				out  *[]sample
			}{{"floor", c.floor, &results[i].floor}, {"platform", c.platform, &results[i].platform}}
			if round%2 == 0 {
				slices.Reverse(sides)
			}
			for _, side := range sides {
				if side.run == nil {
					continue
				}
				if c.prepare != nil {
					if err := c.prepare(ctx); err != nil {
						return err
					}
				}
				s, err := side.run(ctx)
				if err != nil {
					return fmt.Errorf("%s, %s: %w", c.what, side.name, err)
				}
				*side.out = append(*side.out, s)
				fmt.Printf("round %d  %-44s %-8s %s\n", round, c.what, side.name, s)
			}
		}
	}
	fmt.Printf("\nmedians of %d rounds (platform ÷ floor):\n", rounds)
	for i, c := range cs {
		p := median(results[i].platform)
		if c.floor == nil {
			fmt.Printf("  %-44s platform %s (no floor)\n", c.what, p)
			continue
		}
		f := median(results[i].floor)
		if f.took > 0 {
			fmt.Printf("  %-44s floor %s | platform %s | %.2f×\n", c.what, f, p, float64(p.took)/float64(f.took))
			continue
		}
		line := fmt.Sprintf("  %-44s floor %s | platform %s | rate %.2f×, p50 %.2f×, p99 %.2f×", c.what, f, p,
			p.rate/f.rate, float64(p.p50)/float64(f.p50), float64(p.p99)/float64(f.p99))
		if f.cpu > 0 && p.cpu > 0 {
			line += fmt.Sprintf(", CPU %.2f×", float64(p.cpu)/float64(f.cpu))
		}
		fmt.Println(line)
	}
	fmt.Println()
	return nil
}

// median takes each figure's median on its own across the rounds.
func median(ss []sample) sample {
	pick := func(f func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return sample{
		rate: pick(func(s sample) float64 { return s.rate }),
		p50:  time.Duration(pick(func(s sample) float64 { return float64(s.p50) })),
		p99:  time.Duration(pick(func(s sample) float64 { return float64(s.p99) })),
		cpu:  time.Duration(pick(func(s sample) float64 { return float64(s.cpu) })),
		took: time.Duration(pick(func(s sample) float64 { return float64(s.took) })),
	}
}
