// Package e2e drives the real platform, started by devstack exactly as `make dev` starts it
// (Temporal dev server, or with ROME_TEMPORAL=cluster two Temporal server nodes on
// PostgreSQL, referential loaded with the official ROME data, intake,
// notifications, console and worker), over HTTP and gRPC as partners, moderators and ops
// would, and the console in a real browser (browser_test.go).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/tools/devstack"
)

// TestPlatform starts the stack once, on free ports with a fresh PostgreSQL database, and
// runs every scenario against it. Add scenarios to the list.
func TestPlatform(t *testing.T) {
	p := startPlatform(t)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *platform)
	}{
		{"Health", testHealth},
		{"TemporalUI", testTemporalUI},
		{"SearchAttributes", testSearchAttributes},
		{"MeOnIntakeAndNotifications", testMe},
		{"ValidateChangeSet", testValidateChangeSet},
		{"PublishNeedsTheServiceRole", testPublishNeedsTheServiceRole},
		{"ReferentialVersion", testReferentialVersion},
		{"ReferentialFiche", testReferentialFiche},
		// Requests publish new referential versions: they run after the referential scenarios.
		{"RequestFullPath", testRequestFullPath},
		{"RequestRejected", testRequestRejected},
		{"RequestWithdrawn", testRequestWithdrawn},
		{"RequestExpired", testRequestExpired},
		{"RequestPublicationConflict", testRequestPublicationConflict},
		{"IdempotentSubmission", testIdempotentSubmission},
		{"WorkerRestart", testWorkerRestart},
		{"TemporalNodeKilled", testTemporalNodeKilled},
		{"TeamsChannel", testTeamsChannel},
		{"Notifications", testNotifications},
		{"NotificationPreferences", testNotificationPreferences},
		{"Directory", testDirectory},
		{"Ideas", testIdeas},
		{"AccessRequests", testAccessRequests},
		{"GroupSync", testGroupSync},
		{"OneTracePerRequest", testOneTracePerRequest},
		// The console, in Chromium (browser_test.go).
		{"Console/SignInPage", testConsoleSignInPage},
		{"Console/PartnerAndModerator", testConsolePartnerAndModerator},
		{"Console/OtherOrganisation", testConsoleOtherOrganisation},
		{"Console/Withdrawal", testConsoleWithdrawal},
		{"Console/Amendment", testConsoleAmendment},
		{"Console/CreateFicheFromNewAppellation", testConsoleCreateFicheFromNewAppellation},
		{"Console/FormErrors", testConsoleFormErrors},
		{"Console/KeyboardSubmission", testConsoleKeyboardSubmission},
		{"Console/AdminPages", testConsoleAdminPages},
		{"Console/Ideas", testConsoleIdeas},
		{"Console/AccessRequests", testConsoleAccessRequests},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, p) })
		select {
		case err := <-p.failed:
			t.Fatalf("after %s: %v", sc.name, err)
		default:
		}
	}
}

// platform is the running stack as the scenarios see it.
type platform struct {
	devstack.Endpoints
	namespace string
	failed    <-chan error // a service or Temporal died
	stack     *devstack.Stack
	traces    *traceSink // every service exports its spans there
}

// Request timers are shortened so that expiry is seen within a test; the other deadlines
// stay long enough never to fire during one.
const (
	partnerReminder = 3 * time.Second
	questionExpiry  = 8 * time.Second
)

// startPlatform starts the stack, with ROME_REPLICAS processes of each service and of the
// worker (1 by default; make test-e2e-production runs 2); env adds to (and overrides) the
// settings every stack of the suite gets.
func startPlatform(t *testing.T, env ...string) *platform {
	replicas, err := config.Int("ROME_REPLICAS", 1)
	if err != nil {
		t.Fatal(err)
	}
	return startReplicated(t, replicas, env...)
}

// startReplicated is startPlatform with replicas processes of each service and of the
// worker (devstack.Options.Replicas).
func startReplicated(t *testing.T, replicas int, env ...string) *platform {
	root, err := devstack.FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dataDir := config.String("ROME_DATA_DIR", devstack.DefaultDataDir(root))
	if dataDir == "" {
		t.Fatal("no ROME data: set ROME_DATA_DIR or put the export in ../shared/data/rome4")
	}
	// Kept when the test fails, for the services' logs.
	stateDir, err := os.MkdirTemp("", "rome-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("state and logs kept in %s", stateDir)
			return
		}
		_ = os.RemoveAll(stateDir)
	})

	temporal, err := devstack.TemporalModeFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	opts := devstack.Options{
		RepoRoot: root,
		StateDir: stateDir,
		// The Temporal CLI or server that make dev builds (pinned versions): built once, not per run.
		ToolsDir:    filepath.Join(root, ".dev", "bin"),
		Temporal:    temporal,
		DataDir:     dataDir,
		DatabaseURL: dbtest.URL(t, database.Postgres),
		DevMode:     true,
		Replicas:    replicas,
		Log:         logWriter{t},
		ExtraEnv: []string{
			"REQUEST_PARTNER_REMINDER=" + partnerReminder.String(),
			"REQUEST_QUESTION_EXPIRY=" + questionExpiry.String(),
			// Digests every few seconds, and Teams deliveries retried within a test.
			"DIGEST_INTERVAL=3s",
			"TEAMS_RETRY_BASE=1s",
			// Every client here is 127.0.0.1: the per-client rate limit would throttle the suite.
			"RATE_LIMIT_RPS=0",
		},
	}
	if temporal == devstack.TemporalCluster {
		// Temporal's own fresh databases, dropped with the services' after the run.
		opts.TemporalDatabaseURL = dbtest.URL(t, database.Postgres)
		opts.TemporalVisibilityDatabaseURL = dbtest.URL(t, database.Postgres)
	}
	traces := startTraceSink(t)
	opts.ExtraEnv = append(opts.ExtraEnv, traces.env()...)
	opts.ExtraEnv = append(opts.ExtraEnv, env...)
	if err := opts.UseFreePorts(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stack, err := devstack.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start the platform: %v", err)
	}
	// Registered after the database's cleanup, so it runs first.
	t.Cleanup(func() {
		if err := stack.Stop(); err != nil {
			t.Errorf("stop the platform: %v", err)
		}
	})
	return &platform{Endpoints: stack.Endpoints, namespace: stack.Options.TemporalNamespace, failed: stack.Failed(), stack: stack, traces: traces}
}

// logWriter shows devstack's progress in the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// call sends a JSON request (body may be nil) with an optional bearer token and returns
// the status, the content type and the body.
func call(t *testing.T, method, url, token string, body any) (int, string, []byte) {
	t.Helper()
	return callWithHeaders(t, method, url, token, body, nil)
}

// callWithHeaders is call with extra request headers.
func callWithHeaders(t *testing.T, method, url, token string, body any, headers map[string]string) (int, string, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// callJSON is call that expects wantStatus and decodes the answer into out.
func callJSON(t *testing.T, method, url, token string, body any, wantStatus int, out any) {
	t.Helper()
	status, _, b := call(t, method, url, token, body)
	if status != wantStatus {
		t.Fatalf("%s %s = %d, want %d: %s", method, url, status, wantStatus, b)
	}
	if out != nil {
		mustUnmarshal(t, b, out)
	}
}

func mustUnmarshal(t *testing.T, b []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

// wantProblem checks an RFC 9457 error answer.
func wantProblem(t *testing.T, method, url, token string, body any, wantStatus int) {
	t.Helper()
	status, contentType, b := call(t, method, url, token, body)
	if status != wantStatus {
		t.Fatalf("%s %s = %d, want %d: %s", method, url, status, wantStatus, b)
	}
	if !strings.HasPrefix(contentType, "application/problem+json") {
		t.Errorf("%s %s: Content-Type %q, want application/problem+json", method, url, contentType)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s %s: problem is not JSON: %s", method, url, b)
	}
	if p.Status != wantStatus || p.Title == "" || p.Code == "" || p.Type == "" {
		t.Errorf("%s %s: problem %s lacks type, title, code or the right status", method, url, b)
	}
}

// devToken asks intake for a dev token (ROME_DEV_MODE only).
// entraID is the Entra object id the e2e people have.
func entraID(sub string) string { return "aad-" + sub }

func devToken(t *testing.T, p *platform, sub, role, org string) string {
	t.Helper()
	status, _, b := call(t, http.MethodPost, p.Intake+"/dev/token", "",
		// Every person has an Entra object id, as in a Microsoft 365 tenant.
		map[string]string{"sub": sub, "name": "E2E " + role, "role": role, "org": org, "oid": entraID(sub)})
	var out struct {
		Token string `json:"token"`
	}
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("POST /dev/token = %d: %s", status, b)
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		t.Fatalf("POST /dev/token gave no token: %s", b)
	}
	return out.Token
}
