package telemetry

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestProfilesAreServedOnlyWhenAsked(t *testing.T) {
	if addr, err := ServeProfiles(t.Context(), "quiet"); addr != "" || err != nil {
		t.Fatalf("without QUIET_PPROF_ADDR: %q %v", addr, err)
	}
	t.Setenv("PROFILED_PPROF_ADDR", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(t.Context())
	addr, err := ServeProfiles(ctx, "profiled")
	if err != nil || addr == "" {
		t.Fatalf("ServeProfiles: %q %v", addr, err)
	}
	res, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("goroutine profile: %d", res.StatusCode)
	}
	cancel()
	for range 200 { // the server closes in its own goroutine
		if _, err = http.Get("http://" + addr + "/debug/pprof/"); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("still serving profiles after the context ended")
}
