package loadtest

import (
	"context"
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
