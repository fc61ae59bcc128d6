package config

import (
	"strings"
	"testing"
	"time"
)

func TestString(t *testing.T) {
	t.Setenv("ROME_T_STR", "")
	if got := String("ROME_T_STR", "def"); got != "def" {
		t.Fatalf("empty: got %q", got)
	}
	t.Setenv("ROME_T_STR", "  value ")
	if got := String("ROME_T_STR", "def"); got != "value" {
		t.Fatalf("set: got %q", got)
	}
}

func TestInt(t *testing.T) {
	t.Setenv("INTAKE_PORT", "")
	if n, err := Int("INTAKE_PORT", 8081); err != nil || n != 8081 {
		t.Fatalf("default: %d, %v", n, err)
	}
	t.Setenv("INTAKE_PORT", "9000")
	if n, err := Int("INTAKE_PORT", 8081); err != nil || n != 9000 {
		t.Fatalf("set: %d, %v", n, err)
	}
	t.Setenv("INTAKE_PORT", "80x1")
	_, err := Int("INTAKE_PORT", 8081)
	if err == nil || !strings.Contains(err.Error(), `INTAKE_PORT="80x1"`) {
		t.Fatalf("want an error naming the variable and value, got %v", err)
	}
}

func TestFloat(t *testing.T) {
	t.Setenv("ROME_T_FLOAT", "")
	if f, err := Float("ROME_T_FLOAT", 2.5); err != nil || f != 2.5 {
		t.Fatalf("default: %v, %v", f, err)
	}
	t.Setenv("ROME_T_FLOAT", "0.25")
	if f, err := Float("ROME_T_FLOAT", 2.5); err != nil || f != 0.25 {
		t.Fatalf("set: %v, %v", f, err)
	}
	for _, bad := range []string{"fast", "NaN", "Inf"} {
		t.Setenv("ROME_T_FLOAT", bad)
		if _, err := Float("ROME_T_FLOAT", 2.5); err == nil || !strings.Contains(err.Error(), "ROME_T_FLOAT=") {
			t.Fatalf("%s: want an error naming the variable, got %v", bad, err)
		}
	}
}

func TestBool(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "YES": true, "on": true, "false": false, "0": false, "no": false, "Off": false} {
		t.Setenv("ROME_DEV_MODE", v)
		got, err := DevMode()
		if err != nil || got != want {
			t.Fatalf("%q: got %v, %v", v, got, err)
		}
	}
	t.Setenv("ROME_DEV_MODE", "")
	if got, err := DevMode(); err != nil || got {
		t.Fatalf("unset: dev mode must be off, got %v, %v", got, err)
	}
	t.Setenv("ROME_DEV_MODE", "maybe")
	if _, err := DevMode(); err == nil || !strings.Contains(err.Error(), "ROME_DEV_MODE") {
		t.Fatalf("want an error naming ROME_DEV_MODE, got %v", err)
	}
}

func TestDuration(t *testing.T) {
	t.Setenv("ROME_T_DUR", "")
	if d, err := Duration("ROME_T_DUR", time.Second); err != nil || d != time.Second {
		t.Fatalf("default: %v, %v", d, err)
	}
	t.Setenv("ROME_T_DUR", "1m30s")
	if d, err := Duration("ROME_T_DUR", time.Second); err != nil || d != 90*time.Second {
		t.Fatalf("set: %v, %v", d, err)
	}
	t.Setenv("ROME_T_DUR", "10")
	if _, err := Duration("ROME_T_DUR", time.Second); err == nil {
		t.Fatal("a bare number has no unit and must be rejected")
	}
}

func TestPort(t *testing.T) {
	t.Setenv("ROME_T_PORT", "70000")
	if _, err := Port("ROME_T_PORT", 1); err == nil {
		t.Fatal("out-of-range port accepted")
	}
	t.Setenv("ROME_T_PORT", "8084")
	if p, err := Port("ROME_T_PORT", 1); err != nil || p != 8084 {
		t.Fatalf("got %d, %v", p, err)
	}
}

func TestStateDir(t *testing.T) {
	t.Setenv("ROME_STATE_DIR", "")
	if got := StateDir(); got != ".dev" {
		t.Fatalf("default: %q", got)
	}
	t.Setenv("ROME_STATE_DIR", "/var/lib/rome")
	if got := StateDir(); got != "/var/lib/rome" {
		t.Fatalf("set: %q", got)
	}
}
