// Package config reads typed settings from environment variables.
//
// An unset or empty variable yields the default; a value that does not parse
// is an error naming the variable, so a typo stops the process at start-up
// instead of being silently replaced by the default.
package config

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// String returns the value of key, or def when it is unset or empty.
func String(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

// Int returns key parsed as a base-10 integer, or def when it is unset.
func Int(key string, def int) (int, error) {
	v, ok := lookup(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not an integer", key, v)
	}
	return n, nil
}

// Float returns key parsed as a decimal number (e.g. "0.5", "200"), or def when it is
// unset.
func Float(key string, def float64) (float64, error) {
	v, ok := lookup(key)
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s=%q: not a number", key, v)
	}
	return f, nil
}

// Bool returns key parsed as a boolean (true/false, 1/0, yes/no, on/off), or
// def when it is unset.
func Bool(key string, def bool) (bool, error) {
	v, ok := lookup(key)
	if !ok {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		return true, nil
	case "0", "f", "false", "no", "n", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s=%q: not a boolean (use true or false)", key, v)
}

// Duration returns key parsed by time.ParseDuration (e.g. "30s", "5m"), or def
// when it is unset.
func Duration(key string, def time.Duration) (time.Duration, error) {
	v, ok := lookup(key)
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a duration (e.g. 30s, 5m, 1h)", key, v)
	}
	return d, nil
}

// Port returns key as a TCP port number (1-65535), or def when it is unset.
func Port(key string, def int) (int, error) {
	p, err := Int(key, def)
	if err != nil {
		return 0, err
	}
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("%s=%d: not a TCP port (1-65535)", key, p)
	}
	return p, nil
}

// StateDir is where local state lives (SQLite files, the dev signing key):
// ROME_STATE_DIR, default ".dev".
func StateDir() string {
	return String("ROME_STATE_DIR", ".dev")
}

// DevMode reports whether ROME_DEV_MODE enables the dev-only features.
func DevMode() (bool, error) {
	return Bool("ROME_DEV_MODE", false)
}

func lookup(key string) (string, bool) {
	v := strings.TrimSpace(os.Getenv(key))
	return v, v != ""
}
