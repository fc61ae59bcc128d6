package devstack

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while children write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProcessOutputGoesToLogAndPrefixedOutput(t *testing.T) {
	dir := t.TempDir()
	var out syncBuffer
	p, err := startProcess("referential", filepath.Join(dir, "r.log"), false, &out, nil, "/bin/sh", "-c", "echo one; echo two >&2; printf three")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.wait(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "r.log"))
	if string(log) != "one\ntwo\nthree" {
		t.Errorf("log = %q", log)
	}
	want := "referential   | one\nreferential   | two\nreferential   | three\n"
	if out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}

func TestProcessFailureShowsTheEndOfItsLog(t *testing.T) {
	dir := t.TempDir()
	p, err := startProcess("import", filepath.Join(dir, "import.log"), false, nil, nil, "/bin/sh", "-c", "for i in $(seq 1 50); do echo line $i; done; echo 'boom: bad CSV' >&2; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.wait(context.Background(), time.Second); err == nil {
		t.Fatal("exit 3 reported as success")
	}
	msg := p.failure("failed").Error()
	for _, want := range []string{"import failed", "exit status 3", "boom: bad CSV", "line 50"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "line 10\n") {
		t.Errorf("failure quotes the whole log: %q", msg)
	}
}

func TestProcessStopEscalatesToSIGKILL(t *testing.T) {
	dir := t.TempDir()
	polite, err := startProcess("polite", filepath.Join(dir, "p.log"), false, nil, nil, "/bin/sh", "-c", "sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	stubborn, err := startProcess("stubborn", filepath.Join(dir, "s.log"), false, nil, nil, "/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done")
	if err != nil {
		t.Fatal(err)
	}
	waitForLog(t, filepath.Join(dir, "s.log"), "ready")
	if err := polite.stop(5 * time.Second); err != nil {
		t.Errorf("polite.stop: %v", err)
	}
	start := time.Now()
	if err := stubborn.stop(300 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("stubborn.stop = %v, want a kill reported", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %s", d)
	}
	if !polite.exited() || !stubborn.exited() {
		t.Error("a process survived stop")
	}
}

func TestProcessWaitStopsOnCancel(t *testing.T) {
	p, err := startProcess("sleeper", filepath.Join(t.TempDir(), "s.log"), false, nil, nil, "/bin/sh", "-c", "sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p.wait(ctx, time.Second); err != context.DeadlineExceeded {
		t.Errorf("wait = %v, want the context's error", err)
	}
	if !p.exited() {
		t.Error("the child outlived the cancelled wait")
	}
}

func TestStartProcessReportsAMissingBinary(t *testing.T) {
	_, err := startProcess("ghost", filepath.Join(t.TempDir(), "g.log"), false, nil, nil, "/nonexistent/ghost")
	if err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("err = %v", err)
	}
}

func TestPrefixWriterBoundsAnEndlessLine(t *testing.T) {
	var out bytes.Buffer
	w := &prefixWriter{w: &out, prefix: "x | "}
	chunk := bytes.Repeat([]byte("a"), 1000)
	for range maxLine/len(chunk) + 2 {
		_, _ = w.Write(chunk)
	}
	if out.Len() == 0 || len(w.buf) > maxLine {
		t.Errorf("buffered %d bytes, wrote %d", len(w.buf), out.Len())
	}
}

func waitForLog(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never logged %q", path, want)
}

// A restarted child's log keeps its previous runs; a failure quotes the run that failed.
func TestFailureQuotesTheLastRunOfALog(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "worker.log")
	for i, script := range []string{"echo first run; exit 1", "echo second run; exit 2"} {
		p, err := startProcess("worker", logPath, i > 0, nil, nil, "/bin/sh", "-c", script)
		if err != nil {
			t.Fatal(err)
		}
		_ = p.wait(context.Background(), time.Second)
		if i == 0 {
			continue
		}
		msg := p.failure("exited").Error()
		if !strings.Contains(msg, "second run") || strings.Contains(msg, "first run") {
			t.Errorf("failure = %q, want the second run's lines only", msg)
		}
	}
	if b, _ := os.ReadFile(logPath); !strings.Contains(string(b), "first run") || !strings.Contains(string(b), restartMarker) {
		t.Errorf("the log lost the first run: %q", b)
	}
}
