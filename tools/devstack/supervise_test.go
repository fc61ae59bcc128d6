package devstack

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBackoffDoublesUpToItsMaxAndResetsAfterAGoodRun(t *testing.T) {
	b := backoff{initial: time.Second, max: 5 * time.Second, resetAfter: time.Minute}
	var c crashes
	for i, tc := range []struct {
		uptime    time.Duration
		wantDelay time.Duration
		wantInRow int
	}{
		{10 * time.Minute, time.Second, 1}, // the first crash
		{time.Second, 2 * time.Second, 2},
		{0, 4 * time.Second, 3}, // did not even start
		{time.Second, 5 * time.Second, 4},
		{time.Second, 5 * time.Second, 5},
		{time.Minute, time.Second, 1}, // it had stayed up: a fresh start
		{time.Second, 2 * time.Second, 2},
	} {
		if got := b.crashed(&c, tc.uptime); got != tc.wantDelay || c.inARow != tc.wantInRow {
			t.Errorf("crash %d after %s: delay %s, %d in a row; want %s, %d", i+1, tc.uptime, got, c.inARow, tc.wantDelay, tc.wantInRow)
		}
	}
}

// testStack is a stack with no member yet, logging to a buffer, restarting quickly.
func testStack(t *testing.T, restartCrashed bool) (*Stack, *syncBuffer) {
	t.Helper()
	progress := &syncBuffer{}
	o := Options{RepoRoot: t.TempDir(), StateDir: t.TempDir(), Log: progress, RestartCrashed: restartCrashed,
		ReadyTimeout: 10 * time.Second, StopTimeout: 2 * time.Second}
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(o.StateDir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := newStack(o)
	s.backoff = backoff{initial: 10 * time.Millisecond, max: 40 * time.Millisecond, resetAfter: time.Hour, keepsCrashing: 3}
	t.Cleanup(func() { _ = s.Stop() })
	return s, progress
}

// shellChild is a member of s running script, ready once it prints "up"; started and ready.
func shellChild(t *testing.T, s *Stack, name, script string) *child {
	t.Helper()
	c := s.newChild(name, "/bin/sh", os.Environ(), []string{"-c", script}, func(ctx context.Context, p *process) error {
		return waitFor(ctx, p, "up in its log", func(context.Context) error {
			b, _ := os.ReadFile(p.logPath)
			// What this run wrote: the log keeps the previous runs before the last marker.
			run := string(b)[strings.LastIndex(string(b), "--- restarted by devstack")+1:]
			if !strings.Contains(run, "up\n") {
				return errors.New("not up yet")
			}
			return nil
		})
	})
	s.services = append(s.services, c)
	if err := s.launchChild(c); err != nil {
		t.Fatal(err)
	}
	if err := s.awaitChild(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// crashesWhen is a script that comes up, then runs crash once trigger exists.
func crashesWhen(trigger, crash string) string {
	return "echo up; while [ ! -e " + trigger + " ]; do sleep 0.01; done; " + crash
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitUntil polls cond until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestACrashedChildIsRestartedWithBackoff(t *testing.T) {
	s, progress := testStack(t, true)
	dir := t.TempDir()
	// Run 1 comes up, then crashes when told to; runs 2 and 3 crash at once; run 4 stays up.
	script := `cd ` + dir + `; n=$(( $(cat count 2>/dev/null || echo 0) + 1 )); echo $n > count; echo "run $n"
if [ $n -eq 1 ]; then echo up; while [ ! -e crash ]; do sleep 0.01; done; echo "boom $n" >&2; exit 3; fi
if [ $n -lt 4 ]; then echo "boom $n" >&2; exit 3; fi
echo up; exec sleep 60`
	c := shellChild(t, s, "flaky", script)
	first := c.current()
	touch(t, filepath.Join(dir, "crash"))
	waitUntil(t, "flaky to be up again", func() bool { return strings.Contains(progress.String(), "flaky is up again") })

	out := progress.String()
	for _, want := range []string{
		"flaky exited after", "(exit status 3); last lines of " + first.logPath, "boom 1",
		"restarting flaky in 10ms", "restarting flaky in 20ms", "restarting flaky in 40ms",
		"flaky keeps crashing (3 times in a row)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("devstack's log lacks %q:\n%s", want, out)
		}
	}
	childLog, _ := os.ReadFile(first.logPath)
	if !strings.Contains(string(childLog), "run 1\n") || !strings.Contains(string(childLog), "run 4\n") ||
		strings.Count(string(childLog), "--- restarted by devstack") != 3 {
		t.Errorf("the child's log does not keep every run:\n%s", childLog)
	}
	p := c.current()
	if p == first || p.exited() {
		t.Fatal("flaky is not running again")
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if !p.exited() {
		t.Error("Stop left the restarted child running")
	}
}

func TestAKilledChildStaysDownUntilRestart(t *testing.T) {
	s, progress := testStack(t, true)
	c := shellChild(t, s, "worker", "echo up; exec sleep 60")
	if err := s.Kill("worker"); err != nil {
		t.Fatal(err)
	}
	supervisorsDone := make(chan struct{})
	go func() { s.supervisors.Wait(); close(supervisorsDone) }()
	select {
	case <-supervisorsDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the supervisor still watches a child killed on purpose")
	}
	if strings.Contains(progress.String(), "restarting worker") {
		t.Fatalf("a child killed on purpose was restarted:\n%s", progress)
	}
	killed := c.current()
	if err := s.Restart(context.Background(), "worker"); err != nil {
		t.Fatal(err)
	}
	if p := c.current(); p == killed || p.exited() {
		t.Fatal("Restart did not start the worker again")
	}
	if err := s.Restart(context.Background(), "worker"); err == nil || !strings.Contains(err.Error(), "still running") {
		t.Errorf("Restart of a running child: err = %v", err)
	}
}

func TestStopDuringTheBackoffRestartsNothing(t *testing.T) {
	s, progress := testStack(t, true)
	s.backoff.initial = time.Hour
	trigger := filepath.Join(t.TempDir(), "crash")
	c := shellChild(t, s, "crasher", crashesWhen(trigger, "exit 1"))
	touch(t, trigger)
	waitUntil(t, "the restart to be planned", func() bool { return strings.Contains(progress.String(), "restarting crasher in 1h0m0s") })
	crashed := c.current()
	stopped := make(chan error)
	go func() { stopped <- s.Stop() }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop waited for the backoff")
	}
	if c.current() != crashed {
		t.Error("a child was started while the stack stopped")
	}
}

// Without RestartCrashed (the e2e tests), a crash is reported on Failed and nothing restarts.
func TestACrashIsReportedWhenRestartsAreOff(t *testing.T) {
	s, progress := testStack(t, false)
	trigger := filepath.Join(t.TempDir(), "crash")
	c := shellChild(t, s, "intake", crashesWhen(trigger, "echo 'panic: oops' >&2; exit 2"))
	touch(t, trigger)
	select {
	case err := <-s.Failed():
		if msg := err.Error(); !strings.Contains(msg, "intake exited unexpectedly (exit status 2)") || !strings.Contains(msg, "panic: oops") {
			t.Errorf("failure = %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no failure reported")
	}
	if strings.Contains(progress.String(), "restarting") {
		t.Errorf("restarted although RestartCrashed is off:\n%s", progress)
	}
	if err := os.Remove(trigger); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(context.Background(), "intake"); err != nil {
		t.Fatal(err)
	}
	if c.current().exited() {
		t.Error("Restart did not start it again")
	}
}

// The services trust the certificate file: the emulator is ready only once it serves that one.
func TestWaitGraphWantsTheCertificateInTheFile(t *testing.T) {
	s, _ := testStack(t, false)
	emulator := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/common/discovery/instance" {
			http.NotFound(w, r)
		}
	}))
	emulator.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	emulator.StartTLS()
	defer emulator.Close()
	s.Endpoints.Graph = emulator.URL
	writeCert := func(der []byte) {
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if err := os.WriteFile(s.Options.graphCertFile(), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := startProcess("graphemu", filepath.Join(t.TempDir(), "g.log"), false, nil, nil, "/bin/sh", "-c", "exec sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(time.Second)

	writeCert(otherCertificate(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.waitGraph(ctx, p); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("ready with another certificate in the file: %v", err)
	}
	writeCert(emulator.Certificate().Raw)
	if err := s.waitGraph(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// otherCertificate is a self-signed certificate for 127.0.0.1, as a previous run of the
// emulator would have left.
func otherCertificate(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
