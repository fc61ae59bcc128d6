package devstack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/workflows/request"
)

func TestTemporalServerArgs(t *testing.T) {
	o := testOptions(t)
	o.TemporalAddress = "127.0.0.1:17233"
	args := o.temporalServerArgs()
	joined := " " + strings.Join(args, " ") + " "
	for _, want := range []string{
		" server start-dev ",
		" --ip 127.0.0.1 ",
		" --port 17233 ",
		" --ui-port 1005 ",
		" --db-filename " + filepath.Join("/state", "temporal.db") + " ",
		" --namespace default ",
		" --dynamic-config-value history.transferProcessorMaxPollRPS=1000 ",
		" --dynamic-config-value matching.numTaskqueueReadPartitions=1 ",
		" --dynamic-config-value matching.numTaskqueueWritePartitions=1 ",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("args lack %q: %v", want, args)
		}
	}
	for _, key := range request.SearchAttributes {
		if !slices.Contains(args, key.GetName()+"=Keyword") {
			t.Errorf("args do not register search attribute %s: %v", key.GetName(), args)
		}
	}
}

// The compose and Kubernetes jobs run the checked-in scripts: they must match the Go list.
func TestSearchAttributesScriptsAreUpToDate(t *testing.T) {
	want := SearchAttributesScript()
	for _, key := range request.SearchAttributes {
		if !strings.Contains(want, "--name "+key.GetName()+" --type Keyword") {
			t.Errorf("script does not register %s", key.GetName())
		}
	}
	for _, rel := range SearchAttributesScriptPaths {
		path := filepath.Join(repoRoot(t), rel)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s is stale: run `go generate ./tools/devstack`", rel)
		}
		if st, err := os.Stat(path); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", rel)
		}
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
