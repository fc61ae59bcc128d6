// Package benchstack starts the platform for the benchmark commands, as `make dev` runs it
// (the Temporal dev server, every service and the worker, on SQLite files or one PostgreSQL
// database), and talks to it the way a client does.
package benchstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/tools/devstack"
)

// Stack is a running platform in a temporary state folder.
type Stack struct {
	*devstack.Stack
	stateDir string
}

// Start builds and starts the platform found from the working directory, or from repoRoot
// when it is set (to measure another checkout with the same benchmark). databaseURL is a
// fresh, empty PostgreSQL database, or "" for the default stack's SQLite files. The
// per-client rate limit is off: one client (127.0.0.1) drives the load.
func Start(ctx context.Context, repoRoot, databaseURL string) (*Stack, error) {
	return StartReplicated(ctx, repoRoot, databaseURL, 1)
}

// StartReplicated is Start with replicas processes of each service and of the worker,
// behind devstack's round-robin proxies (devstack.Options.Replicas; PostgreSQL only).
func StartReplicated(ctx context.Context, repoRoot, databaseURL string, replicas int) (*Stack, error) {
	if repoRoot == "" {
		var err error
		if repoRoot, err = devstack.FindRepoRoot("."); err != nil {
			return nil, err
		}
	}
	// The Temporal CLI is built once, in the checkout the benchmark runs from.
	tools, err := devstack.FindRepoRoot(".")
	if err != nil {
		return nil, err
	}
	state, err := os.MkdirTemp("", "rome-bench-")
	if err != nil {
		return nil, err
	}
	opts := devstack.Options{RepoRoot: repoRoot, StateDir: state, ToolsDir: filepath.Join(tools, ".dev", "bin"),
		DataDir: devstack.DefaultDataDir(tools), DatabaseURL: databaseURL, DevMode: true, Replicas: replicas, Log: os.Stderr,
		ExtraEnv: []string{"RATE_LIMIT_RPS=0"}}
	if err := opts.UseFreePorts(); err != nil {
		return nil, err
	}
	s, err := devstack.Start(ctx, opts)
	if err != nil {
		os.RemoveAll(state)
		return nil, err
	}
	return &Stack{Stack: s, stateDir: state}, nil
}

// Stop stops the platform and removes its state folder.
func (s *Stack) Stop() error {
	err := s.Stack.Stop()
	os.RemoveAll(s.stateDir)
	return err
}

// Token mints a dev token on the intake.
func (s *Stack) Token(sub, role, org string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	_, err := Call(http.MethodPost, s.Endpoints.Intake+"/dev/token", "", map[string]string{"sub": sub, "name": sub, "role": role, "org": org}, &out)
	return out.Token, err
}

var client = &http.Client{Timeout: 60 * time.Second}

// Call sends body as JSON (a json.RawMessage as it is) and decodes a 2xx answer into out;
// any other status is an error carrying the answer.
func Call(method, url, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, raw)
	}
	if out != nil {
		return res.StatusCode, json.Unmarshal(raw, out)
	}
	return res.StatusCode, nil
}

// Machine describes the machine the figures were measured on: BENCHMARKS.md states it.
func Machine() string {
	out, _ := exec.Command("sh", "-c", `echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem/{print $2}') GiB, $(uname -sr)"`).Output()
	return strings.TrimSpace(string(out))
}
