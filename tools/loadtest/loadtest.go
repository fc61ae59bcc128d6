// Package loadtest drives an HTTP endpoint (or any operation) with a fixed concurrency or a
// fixed request rate and reports throughput and latency percentiles. It is what BENCHMARKS.md's figures come
// from; it runs on the same machine as the server, so it shares the CPU with it.
package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one run.
type Config struct {
	URL    string               // may contain {} replaced by Values, round robin
	Values []string             // substitutions for {}
	Method string               // default GET
	Body   func(i int64) []byte // optional request body of the i-th request
	Header http.Header
	// Do, when set, is the operation measured instead of an HTTP request (the floor
	// programs' bare calls); i counts from 1.
	Do          func(ctx context.Context, i int64) error
	Concurrency int           // workers (closed loop when Rate is 0)
	Rate        float64       // requests per second (open loop), 0 = as fast as possible
	Duration    time.Duration // how long to run
	Warmup      time.Duration // requests sent before measuring
}

// Report is the outcome of a run.
type Report struct {
	Requests   int64         `json:"requests"`
	Errors     int64         `json:"errors"` // transport errors and 4xx/5xx except 304
	Duration   time.Duration `json:"duration"`
	Throughput float64       `json:"requestsPerSecond"`
	P50        time.Duration `json:"p50"`
	P90        time.Duration `json:"p90"`
	P99        time.Duration `json:"p99"`
	Max        time.Duration `json:"max"`
	FirstError string        `json:"firstError,omitempty"`
}

func (r Report) String() string {
	return fmt.Sprintf("%d requests in %s: %.0f req/s, p50 %s, p90 %s, p99 %s, max %s, %d errors",
		r.Requests, r.Duration.Round(time.Millisecond), r.Throughput, r.P50.Round(10*time.Microsecond),
		r.P90.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond), r.Errors)
}

// Run executes the load and returns the report of the measured part.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Method == "" {
		cfg.Method = http.MethodGet
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	op := cfg.Do
	if op == nil {
		if strings.Contains(cfg.URL, "{}") && len(cfg.Values) == 0 {
			return Report{}, fmt.Errorf("the URL has {} but no values were given")
		}
		op = cfg.httpRequest()
	}
	var (
		seq      atomic.Int64
		measure  atomic.Bool
		mu       sync.Mutex
		lat      []time.Duration
		errs     atomic.Int64
		firstErr atomic.Value
	)
	one := func() {
		start := time.Now()
		err := op(ctx, seq.Add(1))
		d := time.Since(start)
		if !measure.Load() || ctx.Err() != nil {
			return
		}
		if err != nil {
			errs.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
		}
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration)
	defer cancel()
	// When the measured part began (Unix nanoseconds), set once the warm-up is over.
	var measuredFrom atomic.Int64
	startMeasuring := func() {
		measuredFrom.Store(time.Now().UnixNano())
		measure.Store(true)
	}
	if cfg.Warmup == 0 {
		startMeasuring()
	} else {
		go func() {
			select {
			case <-time.After(cfg.Warmup):
				startMeasuring()
			case <-runCtx.Done():
			}
		}()
	}

	var wg sync.WaitGroup
	if cfg.Rate > 0 {
		// Open loop: a ticker releases requests at the rate whatever the latency, and
		// concurrency bounds how many may be in flight.
		slots := make(chan struct{}, cfg.Concurrency)
		tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
		defer tick.Stop()
	loop:
		for {
			select {
			case <-runCtx.Done():
				break loop
			case <-tick.C:
				select {
				case slots <- struct{}{}:
					wg.Add(1)
					go func() { defer wg.Done(); one(); <-slots }()
				default:
					errs.Add(1) // the server fell behind so far that every slot is busy
				}
			}
		}
	} else {
		for w := 0; w < cfg.Concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for runCtx.Err() == nil {
					one()
				}
			}()
		}
	}
	<-runCtx.Done()
	measure.Store(false)
	elapsed := time.Since(time.Unix(0, measuredFrom.Load()))
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	r := Report{Requests: int64(len(lat)), Errors: errs.Load(), Duration: elapsed}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstError = s
	}
	if len(lat) == 0 {
		return r, fmt.Errorf("no request completed")
	}
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	r.Throughput = float64(len(lat)) / elapsed.Seconds()
	r.P50, r.P90, r.P99, r.Max = pct(0.50), pct(0.90), pct(0.99), lat[len(lat)-1]
	return r, nil
}

// httpRequest is the operation of an HTTP run: the i-th request, its body read to the end.
func (cfg Config) httpRequest() func(context.Context, int64) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: cfg.Concurrency * 2, MaxIdleConnsPerHost: cfg.Concurrency * 2, IdleConnTimeout: time.Minute}}
	return func(ctx context.Context, i int64) error {
		url := cfg.URL
		if len(cfg.Values) > 0 {
			url = strings.ReplaceAll(url, "{}", cfg.Values[int(i)%len(cfg.Values)])
		}
		var body io.Reader
		if cfg.Body != nil {
			body = bytes.NewReader(cfg.Body(i))
		}
		req, err := http.NewRequestWithContext(ctx, cfg.Method, url, body)
		if err != nil {
			return err
		}
		for k, v := range cfg.Header {
			req.Header[k] = v
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			return err
		}
		if res.StatusCode >= 400 {
			return fmt.Errorf("%s %s: HTTP %d", cfg.Method, url, res.StatusCode)
		}
		return nil
	}
}
