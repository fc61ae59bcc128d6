package loadtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunCountsRequestsAndErrors(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/bad" {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL + "/{}", Values: []string{"ok", "bad"}, Concurrency: 2, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Errors == 0 || r.Errors > r.Requests || r.P50 > r.Max || r.Throughput <= 0 {
		t.Errorf("report %+v", r)
	}
	if int64(hits.Load()) < r.Requests {
		t.Errorf("server saw %d requests, report says %d", hits.Load(), r.Requests)
	}
}

func TestOpenLoopHoldsTheRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL, Rate: 100, Concurrency: 10, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Throughput < 70 || r.Throughput > 130 {
		t.Errorf("asked 100 req/s, got %.0f", r.Throughput)
	}
}

func TestRunMeasuresAnOperation(t *testing.T) {
	var calls atomic.Int64
	r, err := Run(context.Background(), Config{Concurrency: 2, Duration: 200 * time.Millisecond, Do: func(_ context.Context, i int64) error {
		calls.Add(1)
		time.Sleep(time.Millisecond)
		if i%4 == 0 {
			return errors.New("every fourth call fails")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Requests > calls.Load() || r.P50 < time.Millisecond {
		t.Errorf("report %+v after %d calls", r, calls.Load())
	}
	if r.Errors == 0 || r.FirstError != "every fourth call fails" {
		t.Errorf("errors %d, first %q", r.Errors, r.FirstError)
	}
}
