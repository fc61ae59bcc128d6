package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/platform/temporalx"
	"github.com/plateforme-rome/rome/tools/loadtest"
	"github.com/plateforme-rome/rome/tools/loadtest/benchstack"
	"github.com/plateforme-rome/rome/workflows/request"
)

// submit is the submission scenario: POST /v1/requests against a bare ExecuteWorkflow.
type submit struct {
	stack              *benchstack.Stack
	temporal           client.Client
	partner, moderator string
	run                string       // distinguishes this run's floor workflow ids
	seq                atomic.Int64 // numbers the submissions across phases
}

// fiches spreads the submissions over fiches, and each names its own appellation, as
// partners' requests do: the same element in every request would make each one overlap
// all those before it.
var fiches = []string{"A1101", "B1101", "C1101", "D1101", "E1101", "F1101", "G1101", "H1101", "I1101", "J1101", "K1101", "L1101", "M1101", "N1101"}

// next numbers the next submission and gives its fiche and appellation.
func (s *submit) next() (n int64, codeRome, libelle string) {
	n = s.seq.Add(1)
	return n, fiches[int(n)%len(fiches)], fmt.Sprintf("Métier de test de performance %s-%d", s.run, n)
}

const (
	benchTitle         = "Mesure de performance"
	benchJustification = "Comparaison avec le démarrage nu d'un workflow."
)

// floorTaskQueue has no worker: the floor's workflows are started and never run.
const floorTaskQueue = "sidebyside-floor"

func newSubmit(ctx context.Context, stack *benchstack.Stack, t phaseTimes) ([]comparison, func(), error) {
	s := &submit{stack: stack, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	var err error
	if s.partner, err = stack.Token("bench-partner", "partner", "opco-bench"); err != nil {
		return nil, nil, err
	}
	if s.moderator, err = stack.Token("bench-moderator", "moderator", ""); err != nil {
		return nil, nil, err
	}
	// The services' settings: the floor's starts are encrypted as the intake's are.
	cfg, err := temporalx.LoadConfig(temporalx.EnvList(stack.Options.TemporalClientEnv()), stack.Options.DevMode)
	if err != nil {
		return nil, nil, err
	}
	opts, err := cfg.ClientOptions(slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	if s.temporal, err = client.Dial(opts); err != nil {
		return nil, nil, err
	}
	var cs []comparison
	// With the worker stopped, a submission's own path (the intake, Temporal's start) is
	// measured without the processing of the ones before it competing for the cores; the
	// worker then drains the backlog before the next phase.
	for _, phase := range []struct {
		concurrency   int
		workerStopped bool
	}{{1, false}, {16, false}, {1, true}} {
		c := phase.concurrency
		load := func(op func(context.Context, int64) error, stopWorker bool) func(context.Context) (sample, error) {
			return func(ctx context.Context) (sample, error) {
				if stopWorker {
					if err := stack.Kill("worker"); err != nil {
						return sample{}, err
					}
				}
				var calls atomic.Int64
				counted := func(ctx context.Context, i int64) error { calls.Add(1); return op(ctx, i) }
				before := cpuByProcess()
				r, err := loadtest.Run(ctx, loadtest.Config{Do: counted, Concurrency: c, Duration: t.measured, Warmup: t.warmup})
				if err == nil && r.Errors > 0 {
					err = fmt.Errorf("%d errors, first: %s", r.Errors, r.FirstError)
				}
				if stopWorker {
					fmt.Printf("         CPU per submission, worker stopped: %s\n", cpuPerCall(before, cpuByProcess(), calls.Load()))
					if rerr := stack.Restart(ctx, "worker"); err == nil {
						err = rerr
					}
				}
				if err == nil { // what the submissions cost includes the worker's backlog
					err = s.drain(ctx)
				}
				if !stopWorker {
					fmt.Printf("         CPU per submission, drained: %s\n", cpuPerCall(before, cpuByProcess(), calls.Load()))
				}
				return sample{rate: r.Throughput, p50: r.P50, p99: r.P99}, err
			}
		}
		what := fmt.Sprintf("submit, concurrency %d", c)
		if phase.workerStopped {
			what += ", worker stopped"
		}
		cs = append(cs, comparison{what: what, floor: load(s.floor, false), platform: load(s.platform, phase.workerStopped)})
	}
	return cs, func() {
		fmt.Printf("after the submissions: worker RSS %d MB, intake RSS %d MB\n\n", benchstack.RSSOf("worker"), benchstack.RSSOf("intake"))
		s.temporal.Close()
	}, nil
}

// platform submits one request through the intake.
func (s *submit) platform(ctx context.Context, _ int64) error {
	_, code, libelle := s.next()
	_, err := benchstack.Call(http.MethodPost, s.stack.Endpoints.Intake+"/v1/requests", s.partner, map[string]any{
		"kind": request.KindModifyFiche, "codeRome": code, "title": benchTitle, "justification": benchJustification,
		"operations": []map[string]any{{"op": "add_appellation", "libelle": libelle}},
	}, nil)
	return err
}

// floor starts the request workflow as the intake does (same input, id scheme, reuse policy
// and search attributes), and nothing else.
func (s *submit) floor(ctx context.Context, _ int64) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	by := request.Actor{Sub: "bench-partner", Name: "bench-partner", Role: "partner", Org: "opco-bench"}
	n, code, libelle := s.next()
	ops := []request.Operation{{Op: "add_appellation", Libelle: libelle}}
	request.AssignOperationIDs(ops, 1)
	req := request.Request{
		ID: "floor-" + s.run + "-" + strconv.FormatInt(n, 10), Kind: request.KindModifyFiche, CodeRome: code,
		Title: benchTitle, Justification: benchJustification,
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

// drain waits until the worker has checked every submitted request and the stack has gone
// quiet (its channels created and notifications sent too): a phase's CPU figures include
// its own backlog, and the next phase does not pay for it.
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
	return waitQuiet(ctx, deadline)
}

// waitQuiet waits until the stack's processes use less than a tenth of a core together,
// over two seconds in a row (idle, the Temporal dev server polls its queues a little).
func waitQuiet(ctx context.Context, deadline time.Time) error {
	const interval, quiet = time.Second, 0.1
	calm := 0
	for prev := cpuByProcess(); calm < 2; {
		if time.Now().After(deadline) {
			return fmt.Errorf("the stack still busy after 10 minutes")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
		now, used := cpuByProcess(), 0.0
		for name, t := range now {
			used += t - prev[name]
		}
		if used/interval.Seconds() < quiet {
			calm++
		} else {
			calm = 0
		}
		prev = now
	}
	return nil
}

// stackProcesses are the members of the stack a submission may cost CPU time to.
var stackProcesses = []string{"temporal", "intake", "worker", "notifications", "referential", "graphemu", "smtpsink", "console"}

// cpuByProcess reads the CPU time used so far by each member of the stack.
func cpuByProcess() map[string]float64 {
	cpu := map[string]float64{}
	for _, name := range stackProcesses {
		if pid, err := benchstack.PID(name); err == nil {
			cpu[name], _ = benchstack.CPUSeconds(pid)
		}
	}
	return cpu
}

// cpuPerCall tells the CPU time each member used per call between two readings.
func cpuPerCall(before, after map[string]float64, calls int64) string {
	var parts []string
	total := 0.0
	for _, name := range stackProcesses {
		if d := after[name] - before[name]; d > 0 && calls > 0 {
			per := d / float64(calls)
			total += per
			parts = append(parts, fmt.Sprintf("%s %.2f ms", name, per*1000))
		}
	}
	return fmt.Sprintf("%.2f ms (%s)", total*1000, strings.Join(parts, ", "))
}
