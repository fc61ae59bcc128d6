// Command requestbench measures the evolution-request path on a real stack it starts itself
// (Temporal dev server, services and worker, on a fresh PostgreSQL database), as
// BENCHMARKS.md reports it:
//
//  1. POST /v1/requests at a fixed rate (default 50/s for 60 s), then at the highest rate;
//
//  2. from a decision to the new version being readable in the referential (p50, p95);
//
//  3. thousands of requests open at once: the worker's RSS, and every request still answering.
//
//     go run ./tools/loadtest/cmd/requestbench [-rate 50 -d 60s -peak-rate 150 -decisions 40 -open 5000]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plateforme-rome/rome/tools/loadtest"
	"github.com/plateforme-rome/rome/tools/loadtest/benchstack"
)

func main() {
	var (
		rate      = flag.Float64("rate", 50, "sustained submissions per second")
		dur       = flag.Duration("d", 60*time.Second, "duration of the sustained run")
		peakRate  = flag.Float64("peak-rate", 150, "offered rate of the peak run")
		peakDur   = flag.Duration("peak-d", 20*time.Second, "duration of the peak run")
		decisions = flag.Int("decisions", 40, "requests decided for the decision-to-publication latency")
		open      = flag.Int("open", 5000, "requests kept open at once")
		dbURL     = flag.String("database-url", "", "PostgreSQL database for the services (required: a fresh, empty database)")
		replicas  = flag.Int("replicas", 1, "processes of each service and of the worker, behind round-robin proxies")
	)
	flag.Parse()
	if *dbURL == "" {
		fail(fmt.Errorf("-database-url is required (a fresh, empty PostgreSQL database)"))
	}
	stack, err := benchstack.StartReplicated(context.Background(), "", *dbURL, *replicas)
	if err != nil {
		fail(err)
	}
	defer stack.Stop()
	b := &bench{stack: stack, intake: stack.Endpoints.Intake, referential: stack.Endpoints.Referential}
	b.partner = b.token("bench-partner", "partner", "opco-bench")
	b.moderator = b.token("bench-moderator", "moderator", "")

	fmt.Printf("machine: %s\n", benchstack.Machine())
	fmt.Printf("replicas: %d of each service and of the worker\n", *replicas)
	// The decision latency first, on a quiet stack: the submission runs leave a backlog of
	// checks that the worker works through for a while.
	b.decisionLatency(*decisions)
	b.submissions("sustained", *rate, *dur)
	b.submissions("peak", *peakRate, *peakDur)
	b.openRequests(*open)
}

type bench struct {
	stack               *benchstack.Stack
	intake, referential string
	partner, moderator  string
	seq                 atomic.Int64
}

func (b *bench) token(sub, role, org string) string {
	tok, err := b.stack.Token(sub, role, org)
	if err != nil {
		fail(err)
	}
	return tok
}

func (b *bench) call(method, url, token string, body, out any) (int, error) {
	return benchstack.Call(method, url, token, body, out)
}

func (b *bench) must(_ int, err error) {
	if err != nil {
		fail(err)
	}
}

// fiches spreads requests over many fiches, as partners do.
var fiches = []string{"A1101", "B1101", "C1101", "D1101", "E1101", "F1101", "G1101", "H1101", "I1101", "J1101", "K1101", "L1101", "M1101", "N1101"}

func (b *bench) requestBody() []byte {
	n := b.seq.Add(1)
	body, _ := json.Marshal(map[string]any{
		"kind": "modify_fiche", "codeRome": fiches[int(n)%len(fiches)], "title": fmt.Sprintf("Bench %d", n),
		"justification": "Mesure de performance.",
		"operations":    []map[string]any{{"op": "add_appellation", "libelle": fmt.Sprintf("Métier de test numéro %d", n)}},
	})
	return body
}

func (b *bench) submissions(name string, rate float64, d time.Duration) {
	r, err := loadtest.Run(context.Background(), loadtest.Config{
		URL: b.intake + "/v1/requests", Method: http.MethodPost,
		Header: http.Header{"Authorization": {"Bearer " + b.partner}, "Content-Type": {"application/json"}},
		Body:   func(int64) []byte { return b.requestBody() },
		Rate:   rate, Concurrency: 64, Duration: d, Warmup: 3 * time.Second,
	})
	if err != nil {
		fail(err)
	}
	fmt.Printf("POST /v1/requests %s at %.0f/s offered: %s\n", name, rate, r)
	if r.FirstError != "" {
		fmt.Printf("  first error: %s\n", r.FirstError)
	}
}

type view struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	CodeRome         string `json:"codeRome"`
	PublishedVersion *int   `json:"publishedVersion"`
	Operations       []struct {
		ID string `json:"id"`
	} `json:"operations"`
}

func (b *bench) submitOne() view {
	var v view
	b.must(b.call(http.MethodPost, b.intake+"/v1/requests", b.partner, json.RawMessage(b.requestBody()), &v))
	return v
}

func (b *bench) waitStatus(id, status string) view {
	for deadline := time.Now().Add(15 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var v view
		b.must(b.call(http.MethodGet, b.intake+"/v1/requests/"+id, b.partner, nil, &v))
		if v.Status == status {
			return v
		}
	}
	fail(fmt.Errorf("request %s never reached %s", id, status))
	return view{}
}

// decisionLatency decides requests one at a time and measures until the referential serves
// the version the request was published in.
func (b *bench) decisionLatency(n int) {
	var lat []time.Duration
	for i := 0; i < n; i++ {
		v := b.waitStatus(b.submitOne().ID, "AWAITING_TRIAGE")
		b.must(b.call(http.MethodPost, b.intake+"/v1/requests/"+v.ID+"/assign", b.moderator, map[string]string{"moderator": "bench-moderator"}, nil))
		start := time.Now()
		b.must(b.call(http.MethodPost, b.intake+"/v1/requests/"+v.ID+"/decision", b.moderator, map[string]any{"decisions": []map[string]string{
			{"operationId": v.Operations[0].ID, "decision": "accepted", "rationale": "bench"}}}, nil))
		published := b.waitStatus(v.ID, "PUBLISHED")
		for {
			var f struct {
				Version int `json:"version"`
			}
			b.must(b.call(http.MethodGet, b.referential+"/v1/fiches/"+published.CodeRome, "", nil, &f))
			if f.Version >= *published.PublishedVersion {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("decision → new version readable in the referential (%d requests, sequential): p50 %s, p95 %s, max %s\n",
		n, pct(0.5).Round(time.Millisecond), pct(0.95).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}

// openRequests submits n requests and leaves them open, then checks the worker's RSS and
// that a sample of them still answers updates and reads.
func (b *bench) openRequests(n int) {
	var (
		ids  = make([]string, n)
		wg   sync.WaitGroup
		next atomic.Int64
	)
	start := time.Now()
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				ids[i] = b.submitOne().ID
			}
		})
	}
	wg.Wait()
	fmt.Printf("%d requests submitted in %s\n", n, time.Since(start).Round(time.Second))
	for _, id := range ids {
		b.waitStatus(id, "AWAITING_TRIAGE")
	}
	fmt.Printf("all %d open (AWAITING_TRIAGE) after %s; worker RSS %d MB\n", n, time.Since(start).Round(time.Second), benchstack.RSSOf("worker"))
	var lat []time.Duration
	for i := 0; i < n; i += max(1, n/200) {
		t0 := time.Now()
		b.must(b.call(http.MethodPost, b.intake+"/v1/requests/"+ids[i]+"/messages", b.partner, map[string]string{"text": "toujours là ?"}, nil))
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	fmt.Printf("update (message) on %d of the open requests: p50 %s, p99 %s; worker RSS %d MB\n", len(lat),
		lat[len(lat)/2].Round(time.Millisecond), lat[min(len(lat)-1, len(lat)*99/100)].Round(time.Millisecond), benchstack.RSSOf("worker"))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "requestbench:", err)
	os.Exit(1)
}
