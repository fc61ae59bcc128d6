// Command sidebyside measures the platform against floor programs that do the same work
// bare, alternating them in one run on one stack, and prints the ratios (issue #11;
// BENCHMARKS.md, "Ratios to the floor"). Machines differ from one day to the next: only
// ratios measured in the same run are compared.
//
// Scenarios:
//
//   - submit: POST /v1/requests against its floor, a bare ExecuteWorkflow of the same
//     workflow, with the same input and start options, on a task queue no worker polls: the
//     Temporal start alone. At concurrency 1 and 16, closed loop. The platform's figure
//     includes what the worker does for each request beside it (checks, Teams channel,
//     notifications): the stack is drained of that backlog before every measured phase.
//
//     go run ./tools/loadtest/cmd/sidebyside [-database-url postgres://…] [-rounds 3] [-d 10s] [-repo ../other-checkout]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/tools/loadtest"
	"github.com/plateforme-rome/rome/tools/loadtest/benchstack"
	"github.com/plateforme-rome/rome/workflows/request"
)

func main() {
	var (
		dbURL  = flag.String("database-url", "", "a fresh, empty PostgreSQL database; default: the default stack's SQLite files")
		repo   = flag.String("repo", "", "the checkout whose platform is measured; default: this one")
		rounds = flag.Int("rounds", 3, "alternations of floor and platform; the medians are printed")
		dur    = flag.Duration("d", 10*time.Second, "measured duration of each phase")
		warmup = flag.Duration("warmup", 2*time.Second, "unmeasured start of each phase")
	)
	flag.Parse()
	if err := run(*dbURL, *repo, *rounds, *dur, *warmup); err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}

func run(dbURL, repo string, rounds int, dur, warmup time.Duration) error {
	ctx := context.Background()
	stack, err := benchstack.Start(ctx, repo, dbURL)
	if err != nil {
		return err
	}
	defer stack.Stop()
	s, err := newSubmit(stack)
	if err != nil {
		return err
	}
	defer s.temporal.Close()

	store := "SQLite files (default stack)"
	if dbURL != "" {
		store = "PostgreSQL"
	}
	fmt.Printf("machine: %s\nstack: %s, Temporal dev server; %d rounds of %s (+%s warm-up) per phase\n",
		benchstack.Machine(), store, rounds, dur, warmup)
	results := map[string][]loadtest.Report{}
	for round := 1; round <= rounds; round++ {
		for _, c := range []int{1, 16} {
			phases := []phase{{"floor", s.floor}, {"platform", s.platform}}
			if round%2 == 0 { // neither side always runs first
				slices.Reverse(phases)
			}
			for _, p := range phases {
				if err := s.drain(ctx); err != nil {
					return err
				}
				r, err := loadtest.Run(ctx, loadtest.Config{Do: p.op, Concurrency: c, Duration: dur, Warmup: warmup})
				if err != nil {
					return fmt.Errorf("%s at concurrency %d: %w", p.name, c, err)
				}
				if r.Errors > 0 {
					return fmt.Errorf("%s at concurrency %d: %d errors, first: %s", p.name, c, r.Errors, r.FirstError)
				}
				key := p.name + "/" + strconv.Itoa(c)
				results[key] = append(results[key], r)
				fmt.Printf("round %d, submit %-8s c=%-2d %s\n", round, p.name, c, r)
			}
		}
	}
	fmt.Printf("\nsubmit, medians of %d rounds:\n", rounds)
	fmt.Printf("%-14s %12s %12s %12s %12s\n", "concurrency", "floor p50", "platform p50", "p50 ratio", "rate ratio")
	for _, c := range []int{1, 16} {
		f, p := median(results["floor/"+strconv.Itoa(c)]), median(results["platform/"+strconv.Itoa(c)])
		fmt.Printf("%-14d %12s %12s %11.2f× %11.2f×   (floor %.0f/s, platform %.0f/s; p99 %s vs %s)\n", c,
			f.P50.Round(10*time.Microsecond), p.P50.Round(10*time.Microsecond), float64(p.P50)/float64(f.P50),
			p.Throughput/f.Throughput, f.Throughput, p.Throughput, f.P99.Round(time.Millisecond), p.P99.Round(time.Millisecond))
	}
	fmt.Printf("worker RSS %d MB, intake RSS %d MB\n", benchstack.RSS("worker"), benchstack.RSS("intake"))
	return nil
}

type phase struct {
	name string
	op   func(context.Context, int64) error
}

// median takes each figure's median on its own across the rounds.
func median(rs []loadtest.Report) loadtest.Report {
	pick := func(f func(loadtest.Report) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return loadtest.Report{
		P50:        time.Duration(pick(func(r loadtest.Report) float64 { return float64(r.P50) })),
		P99:        time.Duration(pick(func(r loadtest.Report) float64 { return float64(r.P99) })),
		Throughput: pick(func(r loadtest.Report) float64 { return r.Throughput }),
	}
}

// submit is the submission scenario.
type submit struct {
	stack              *benchstack.Stack
	temporal           client.Client
	partner, moderator string
	body               []byte
	run                string // distinguishes this run's floor workflow ids
}

// floorTaskQueue has no worker: the floor's workflows are started and never run.
const floorTaskQueue = "sidebyside-floor"

func newSubmit(stack *benchstack.Stack) (*submit, error) {
	s := &submit{stack: stack, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	var err error
	if s.partner, err = stack.Token("bench-partner", "partner", "opco-bench"); err != nil {
		return nil, err
	}
	if s.moderator, err = stack.Token("bench-moderator", "moderator", ""); err != nil {
		return nil, err
	}
	s.temporal, err = client.Dial(client.Options{HostPort: stack.Endpoints.TemporalAddress, Namespace: stack.Options.TemporalNamespace})
	if err != nil {
		return nil, err
	}
	s.body, err = json.Marshal(map[string]any{
		"kind": request.KindModifyFiche, "codeRome": "M1805", "title": "Mesure de performance",
		"justification": "Comparaison avec le démarrage nu d'un workflow.",
		"operations":    []map[string]any{{"op": "add_appellation", "libelle": "Métier de test de performance"}},
	})
	return s, err
}

// platform submits one request through the intake.
func (s *submit) platform(ctx context.Context, i int64) error {
	_, err := benchstack.Call(http.MethodPost, s.stack.Endpoints.Intake+"/v1/requests", s.partner, json.RawMessage(s.body), nil)
	return err
}

// floor starts the request workflow as the intake does (same input, id scheme, reuse policy
// and search attributes), and nothing else.
func (s *submit) floor(ctx context.Context, i int64) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	by := request.Actor{Sub: "bench-partner", Name: "bench-partner", Role: "partner", Org: "opco-bench"}
	ops := []request.Operation{{Op: "add_appellation", Libelle: "Métier de test de performance"}}
	request.AssignOperationIDs(ops, 1)
	req := request.Request{
		ID: "floor-" + s.run + "-" + strconv.FormatInt(i, 10), Kind: request.KindModifyFiche, CodeRome: "M1805",
		Title: "Mesure de performance", Justification: "Comparaison avec le démarrage nu d'un workflow.",
		Status: request.StatusSubmitted, Org: by.Org, SubmittedBy: by,
		Operations: []request.RequestOperation{{Operation: ops[0]}}, Findings: []request.Finding{}, Questions: []request.Question{},
		CreatedAt: now, UpdatedAt: now,
	}
	_, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: request.WorkflowID(req.ID), TaskQueue: floorTaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			request.RequestKindKey.ValueSet(string(req.Kind)), request.RequestStatusKey.ValueSet(string(req.Status)),
			request.PartnerOrgKey.ValueSet(req.Org), request.RomeCodeKey.ValueSet(req.CodeRome)),
	}, request.WorkflowType, request.Input{Request: req, Timers: request.DefaultTimers, Link: s.stack.Endpoints.Console + "/demandes/" + req.ID})
	return err
}

// drain waits until the worker has checked every submitted request, so that a phase does
// not pay for the previous one's backlog.
func (s *submit) drain(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Minute)
	for _, status := range []request.Status{request.StatusSubmitted, request.StatusChecking} {
		for {
			var page struct {
				Items []json.RawMessage `json:"items"`
			}
			if _, err := benchstack.Call(http.MethodGet, s.stack.Endpoints.Intake+"/v1/requests?limit=1&status="+string(status), s.moderator, nil, &page); err != nil {
				return err
			}
			if len(page.Items) == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("requests still %s after 10 minutes", status)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return ctx.Err()
}
