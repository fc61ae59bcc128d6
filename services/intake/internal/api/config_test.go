package api

import (
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/workflows/access"
	"github.com/plateforme-rome/rome/workflows/request"
)

var timerEnv = []string{"REQUEST_TRIAGE_REMINDER", "REQUEST_TRIAGE_ESCALATION", "REQUEST_DECISION_REMINDER",
	"REQUEST_DECISION_ESCALATION", "REQUEST_PARTNER_REMINDER", "REQUEST_QUESTION_EXPIRY"}

func TestConfigFromEnv(t *testing.T) {
	for _, k := range append(timerEnv, "TEMPORAL_TASK_QUEUE", "REFERENTIAL_URL", "CONSOLE_URL", "ACCESS_LINK_KEY", "ASSIGNMENT_RULE") {
		t.Setenv(k, "")
	}
	t.Setenv("ROME_DEV_MODE", "true")
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.Timers != request.DefaultTimers || cfg.TaskQueue != request.TaskQueue || cfg.ReferentialURL != "http://127.0.0.1:8082" ||
		cfg.ConsoleURL != "" || string(cfg.AccessLinkKey) != devAccessLinkKey || cfg.AccessTimers != (access.Timers{}).WithDefaults() || cfg.AssignInTurn {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}

	// Outside dev mode the access links need a real key.
	t.Setenv("ROME_DEV_MODE", "false")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "ACCESS_LINK_KEY") {
		t.Errorf("no key outside dev mode: %v", err)
	}
	t.Setenv("ACCESS_LINK_KEY", "short")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "ACCESS_LINK_KEY") {
		t.Errorf("a short key: %v", err)
	}
	t.Setenv("ACCESS_LINK_KEY", strings.Repeat("k", 32))
	t.Setenv("ASSIGNMENT_RULE", "dice")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "ASSIGNMENT_RULE") {
		t.Errorf("an unknown assignment rule: %v", err)
	}
	t.Setenv("ASSIGNMENT_RULE", "round_robin")
	if cfg, err := ConfigFromEnv(); err != nil || !cfg.AssignInTurn {
		t.Errorf("round robin: %+v %v", cfg, err)
	}
	t.Setenv("ACCESS_VERIFICATION_EXPIRY", "1h")
	if cfg, err := ConfigFromEnv(); err != nil || string(cfg.AccessLinkKey) != strings.Repeat("k", 32) || cfg.AccessTimers.Verification != time.Hour {
		t.Errorf("a key and an expiry: %+v %v", cfg, err)
	}

	t.Setenv("TEMPORAL_TASK_QUEUE", "q-test")
	t.Setenv("REFERENTIAL_URL", "http://referential:8082")
	t.Setenv("REQUEST_PARTNER_REMINDER", "3s")
	t.Setenv("REQUEST_QUESTION_EXPIRY", "8s")
	cfg, err = ConfigFromEnv()
	want := request.DefaultTimers
	want.PartnerReminder, want.QuestionExpiry = 3*time.Second, 8*time.Second
	if err != nil || cfg.Timers != want || cfg.TaskQueue != "q-test" || cfg.ReferentialURL != "http://referential:8082" {
		t.Fatalf("overrides: %+v %v", cfg, err)
	}

	for _, bad := range []string{"3 days", "-1h", "0s"} {
		t.Setenv("REQUEST_DECISION_ESCALATION", bad)
		if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "REQUEST_DECISION_ESCALATION") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestConsoleURL(t *testing.T) {
	t.Setenv("INTAKE_PORT", "")
	t.Setenv("ROME_DEV_MODE", "true")
	t.Setenv("CONSOLE_URL", "http://127.0.0.1:8080/")
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.ConsoleURL != "http://127.0.0.1:8080" {
		t.Fatalf("console URL: %q %v", cfg.ConsoleURL, err)
	}
	t.Setenv("CONSOLE_URL", "https://rome.example.org/console")
	if cfg, err := ConfigFromEnv(); err != nil || cfg.ConsoleURL != "https://rome.example.org/console" {
		t.Fatalf("console URL with a path: %q %v", cfg.ConsoleURL, err)
	}
	for _, bad := range []string{"127.0.0.1:8080", "/console", "ftp://rome.example.org", "http://", "https://rome.example.org/?x=1"} {
		t.Setenv("CONSOLE_URL", bad)
		if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "CONSOLE_URL") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
