package devstack

import (
	"strings"
	"testing"
)

func testOptions(t *testing.T) Options {
	t.Helper()
	o := Options{
		RepoRoot:    t.TempDir(),
		StateDir:    "/state",
		DataDir:     "/data/rome4",
		DatabaseURL: "postgres://postgres@127.0.0.1:5432/rome_e2e?sslmode=disable",
		Ports:       Ports{Intake: 1001, Referential: 1002, Notifications: 1003, Worker: 1004, TemporalUI: 1005, Console: 1006},
		DevMode:     true,
	}
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestChildEnvOverridesTheCallersEnvironment(t *testing.T) {
	o := testOptions(t)
	o.ExtraEnv = []string{"FEATURE_X=on", "LOG_LEVEL=debug"}
	base := []string{"PATH=/usr/bin", "DATABASE_URL=postgres://elsewhere/db", "INTAKE_PORT=8081", "LOG_LEVEL=info", "LOG_FORMAT=json"}
	env := o.childEnv(base)
	for key, want := range map[string]string{
		"PATH":                "/usr/bin",
		"ROME_STATE_DIR":      "/state",
		"ROME_DATA_DIR":       "/data/rome4",
		"DATABASE_URL":        o.DatabaseURL,
		"ROME_DEV_MODE":       "true",
		"INTAKE_PORT":         "1001",
		"REFERENTIAL_PORT":    "1002",
		"NOTIFICATIONS_PORT":  "1003",
		"WORKER_PORT":         "1004",
		"TEMPORAL_UI_PORT":    "1005",
		"CONSOLE_PORT":        "1006",
		"INTAKE_URL":          "http://127.0.0.1:1001",
		"REFERENTIAL_URL":     "http://127.0.0.1:1002",
		"NOTIFICATIONS_URL":   "http://127.0.0.1:1003",
		"TEMPORAL_ADDRESS":    "127.0.0.1:7233",
		"TEMPORAL_NAMESPACE":  "default",
		"TEMPORAL_TASK_QUEUE": "rome-requests",
		"CONSOLE_PUBLIC_URL":  "http://127.0.0.1:1006",
		"CONSOLE_URL":         "http://127.0.0.1:1006",
		"FEATURE_X":           "on",
		"LOG_LEVEL":           "debug",
		"LOG_FORMAT":          "json",
	} {
		if got := lookup(env, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}

func TestChildEnvSQLiteDefaultHidesTheCallersDatabase(t *testing.T) {
	o := testOptions(t)
	o.DatabaseURL = ""
	env := o.childEnv([]string{"DATABASE_URL=postgres://elsewhere/db"})
	if got := lookup(env, "DATABASE_URL"); got != "" {
		t.Errorf("DATABASE_URL = %q, want empty so each service uses its SQLite file", got)
	}
	if got := lookup(env, "LOG_FORMAT"); got != "text" {
		t.Errorf("LOG_FORMAT = %q, want text when the caller sets none", got)
	}
}

// platform/auth derives the dev issuer from INTAKE_PORT; an explicit AUTH_* would switch
// that off, so only the caller's own passes through.
func TestChildEnvAuth(t *testing.T) {
	o := testOptions(t)
	env := o.childEnv(nil)
	for _, key := range []string{"AUTH_ISSUER", "AUTH_JWKS_URL", "AUTH_AUDIENCE"} {
		if got := lookup(env, key); got != "" {
			t.Errorf("%s = %q in dev mode, want it unset", key, got)
		}
	}
	o.DevMode = false
	env = o.childEnv([]string{"AUTH_ISSUER=https://login.example/realms/rome"})
	if got := lookup(env, "AUTH_ISSUER"); got != "https://login.example/realms/rome" {
		t.Errorf("AUTH_ISSUER = %q, want the caller's", got)
	}
	if got := lookup(env, "ROME_DEV_MODE"); got != "false" {
		t.Errorf("ROME_DEV_MODE = %q, want false", got)
	}
}

func TestEndpoints(t *testing.T) {
	e := testOptions(t).Endpoints()
	want := Endpoints{
		Console:         "http://127.0.0.1:1006",
		Intake:          "http://127.0.0.1:1001",
		Referential:     "http://127.0.0.1:1002",
		Notifications:   "http://127.0.0.1:1003",
		Worker:          "http://127.0.0.1:1004",
		TemporalAddress: "127.0.0.1:7233",
		TemporalUI:      "http://127.0.0.1:1005",
		Graph:           "https://127.0.0.1:8090",
		Mail:            "http://127.0.0.1:8025",
	}
	if e != want {
		t.Errorf("Endpoints = %+v, want %+v", e, want)
	}
}

// Each service gets the common settings plus its own; the caller's ExtraEnv still wins.
func TestServiceEnv(t *testing.T) {
	o := testOptions(t)
	console := "http://127.0.0.1:1006"
	for _, tc := range []struct {
		service string
		want    map[string]string // "" means unset
	}{
		// The console calls the three APIs and knows its own public address.
		{"console", map[string]string{"CONSOLE_PORT": "1006", "CONSOLE_PUBLIC_URL": console, "INTAKE_URL": "http://127.0.0.1:1001",
			"REFERENTIAL_URL": "http://127.0.0.1:1002", "NOTIFICATIONS_URL": "http://127.0.0.1:1003", "TEMPORAL_UI_URL": "http://127.0.0.1:1005", "PUBLIC_URL": "", "INBOX_URL": ""}},
		// The intake links notifications to the console's /demandes/{id}.
		{"intake", map[string]string{"CONSOLE_URL": console, "PUBLIC_URL": "", "INBOX_URL": ""}},
		// The notifications' links and digests lead to the console's pages.
		{"notifications", map[string]string{"PUBLIC_URL": console, "INBOX_URL": "/notifications", "CONSOLE_URL": console}},
		{"worker", map[string]string{"PUBLIC_URL": "", "INBOX_URL": ""}},
	} {
		env := o.serviceEnv(tc.service, []string{"PUBLIC_URL=", "INBOX_URL="})
		for key, want := range tc.want {
			if got := lookup(env, key); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.service, key, got, want)
			}
		}
	}
	o.ExtraEnv = []string{"INBOX_URL=/elsewhere"}
	if got := lookup(o.serviceEnv("notifications", nil), "INBOX_URL"); got != "/elsewhere" {
		t.Errorf("INBOX_URL = %q, want ExtraEnv's /elsewhere", got)
	}
}

// The console is started with the others once the intake is ready, and stopped by name.
func TestServicesIncludeTheConsole(t *testing.T) {
	var names []string
	for _, s := range services {
		names = append(names, s.name)
	}
	if got, want := strings.Join(names, " "), "intake referential notifications console worker"; got != want {
		t.Errorf("services = %s, want %s (intake first: the others need its JWKS)", got, want)
	}
	for _, s := range services {
		if s.name == "console" && (s.port.env != "CONSOLE_PORT" || s.port.def != 8080 || s.pkg() != "./services/console/cmd/console") {
			t.Errorf("console service = %+v (%s)", s, s.pkg())
		}
	}
}

func TestSummaryShowsTheConsoleFirst(t *testing.T) {
	o := testOptions(t)
	s := &Stack{Options: o, Endpoints: o.Endpoints()}
	got := s.Summary()
	first := strings.Index(got, "Console: open http://127.0.0.1:1006\n")
	if first < 0 || first > strings.Index(got, "http://127.0.0.1:1001") {
		t.Errorf("the summary does not open with the console's URL:\n%s", got)
	}
	if !strings.Contains(got, "http://127.0.0.1:1006/connexion") || !strings.Contains(got, "Identifiant") {
		t.Errorf("the summary lacks the dev sign-in hint:\n%s", got)
	}
	if strings.Contains(got, "restarted") {
		t.Errorf("the summary promises restarts, which RestartCrashed leaves off:\n%s", got)
	}
	s.Options.DevMode = false
	if got := s.Summary(); strings.Contains(got, "/connexion with the dev form") || strings.Contains(got, "/dev/token -H") {
		t.Errorf("dev mode off, but the summary offers the dev sign-in:\n%s", got)
	}
	s.Options.RestartCrashed = true
	if got := s.Summary(); !strings.Contains(got, "crashes is restarted") {
		t.Errorf("the summary does not say that crashed members are restarted:\n%s", got)
	}
}

func TestDescribeDatabaseHidesPasswords(t *testing.T) {
	o := testOptions(t)
	o.DatabaseURL = "postgres://rome:s3cret@db:5432/rome"
	if got := o.describeDatabase(); strings.Contains(got, "s3cret") || !strings.Contains(got, "db:5432/rome") {
		t.Errorf("describeDatabase = %q", got)
	}
	o.DatabaseURL = "host=db user=rome password=s3cret"
	if got := o.describeDatabase(); strings.Contains(got, "s3cret") {
		t.Errorf("describeDatabase = %q", got)
	}
	o.DatabaseURL = ""
	if got := o.describeDatabase(); !strings.Contains(got, "SQLite") || !strings.Contains(got, "/state") {
		t.Errorf("describeDatabase = %q", got)
	}
}

// The stand-ins keep their state next to the services' databases, where a restart finds it.
func TestFakeEnvKeepsTheStandInsStateInTheStateDir(t *testing.T) {
	env := testOptions(t).fakeEnv([]string{"SMTP_SINK_MAIL_FILE=/elsewhere.jsonl"})
	for key, want := range map[string]string{
		"GRAPH_EMULATOR_CERT_FILE":  "/state/graphemu-cert.pem",
		"GRAPH_EMULATOR_KEY_FILE":   "/state/graphemu-key.pem",
		"GRAPH_EMULATOR_STATE_FILE": "/state/graphemu-state.json",
		"SMTP_SINK_MAIL_FILE":       "/state/smtpsink-mail.jsonl",
	} {
		if got := lookup(env, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}
