package devstack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRepo is a checkout whose console assets script is script.
func fakeRepo(t *testing.T, script string) *Stack {
	t.Helper()
	root := t.TempDir()
	path := filepath.Join(root, consoleAssetsScript)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("set -e\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Stack{Options: Options{RepoRoot: root, Log: &strings.Builder{}}}
}

// pathWithout gives a PATH holding only bash: no npm.
func pathWithout(t *testing.T) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("the console's assets step runs bash, which is not on PATH")
	}
	dir := t.TempDir()
	if err := os.Symlink(bash, filepath.Join(dir, "bash")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
}

func TestBuildConsoleAssetsRunsTheScriptFromTheRepoRoot(t *testing.T) {
	s := fakeRepo(t, "echo built > services/console/built")
	if err := s.buildConsoleAssets(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Options.RepoRoot, "services", "console", "built")); err != nil {
		t.Errorf("the script did not run from the repository root: %v", err)
	}
	if log := s.Options.Log.(*strings.Builder).String(); !strings.Contains(log, "console's assets") {
		t.Errorf("no log line about the console's assets: %q", log)
	}
}

func TestBuildConsoleAssetsWithoutNPMSaysSo(t *testing.T) {
	s := fakeRepo(t, `echo "console assets: npm is needed" >&2; exit 1`)
	pathWithout(t)
	err := s.buildConsoleAssets(context.Background())
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y npm") || !strings.Contains(err.Error(), "npm is needed") {
		t.Fatalf("err = %v, want one saying npm is missing, with the script's output", err)
	}
}

func TestBuildConsoleAssetsFailureShowsTheOutput(t *testing.T) {
	s := fakeRepo(t, `echo "cp: dist/dsfr.min.css: No such file" >&2; exit 2`)
	err := s.buildConsoleAssets(context.Background())
	if err == nil || !strings.Contains(err.Error(), "No such file") || !strings.Contains(err.Error(), consoleAssetsScript) {
		t.Fatalf("err = %v, want the script's name and output", err)
	}
}
