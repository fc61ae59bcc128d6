package apiclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestDoAndErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"n":42}`))
		case "/conflict":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(409)
			w.Write([]byte(`{"status":409,"code":"changeset_conflict","detail":"no","results":[1,2]}`))
		case "/busy":
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(429)
			w.Write([]byte(`{"status":429,"code":"busy","detail":"later"}`))
		case "/html":
			w.WriteHeader(502)
			w.Write([]byte(`<html>bad gateway</html>`))
		case "/invalid":
			w.WriteHeader(422)
			w.Write([]byte(`{"status":422,"code":"invalid_body","detail":"x","errors":[{"field":"title","message":"required"}]}`))
		}
	}))
	defer srv.Close()
	c := New("test", srv.URL, nil)
	ctx := context.Background()
	var out struct{ N int }
	if err := c.Do(ctx, http.MethodGet, "/ok", nil, &out); err != nil || out.N != 42 {
		t.Fatalf("ok: %v %+v", err, out)
	}
	var e *Error
	err := c.Do(ctx, http.MethodPost, "/conflict", map[string]int{"a": 1}, nil)
	if !errors.As(err, &e) || e.Status != 409 || e.Code != "changeset_conflict" || e.Temporary() || Temporary(err) {
		t.Fatalf("conflict: %v", err)
	}
	var ext struct{ Results []int }
	if e.Extension(&ext) != nil || len(ext.Results) != 2 {
		t.Errorf("extension: %+v", ext)
	}
	if err := c.Do(ctx, http.MethodGet, "/busy", nil, nil); !errors.As(err, &e) || !e.Temporary() || e.RetryAfter != 3*time.Second {
		t.Errorf("busy: %v", err)
	}
	if err := c.Do(ctx, http.MethodGet, "/html", nil, nil); !errors.As(err, &e) || e.Code != "unexpected_response" || !Temporary(err) {
		t.Errorf("html: %v", err)
	}
	if err := c.Do(ctx, http.MethodGet, "/invalid", nil, nil); !errors.As(err, &e) || len(e.Errors) != 1 || e.Errors[0].Field != "title" {
		t.Errorf("invalid: %v", err)
	}
	srv.Close()
	if err := c.Do(ctx, http.MethodGet, "/ok", nil, nil); err == nil || !Temporary(err) {
		t.Errorf("a network failure is temporary: %v", err)
	}
}
