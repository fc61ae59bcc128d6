package devstack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/temporalx"
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
		" --ui-codec-endpoint http://127.0.0.1:1001/codec ",
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

// The stack's processes reach the dev server it started, payloads encrypted with the dev
// key, whatever Temporal client settings the caller's shell holds; the intake's codec
// routes answer the dev server's UI.
func TestTemporalClientEnv(t *testing.T) {
	o := testOptions(t)
	caller := []string{"TEMPORAL_PROFILE=cloud", "TEMPORAL_API_KEY=secret", "TEMPORAL_TLS=true", "TEMPORAL_TLS_CLIENT_CERT_PATH=/me.pem",
		"TEMPORAL_GRPC_META_X_TENANT=acme", "TEMPORAL_CODEC_KEYS_FILE=/mine", "TEMPORAL_CONFIG_FILE=/home/me/temporal.toml",
		"TEMPORAL_WORKFLOW_CACHE_SIZE=50"}
	env := o.serviceEnv("intake", caller)
	for key, want := range map[string]string{
		"TEMPORAL_ADDRESS":              o.TemporalAddress,
		"TEMPORAL_NAMESPACE":            "default",
		"TEMPORAL_CONFIG_FILE":          os.DevNull,
		"TEMPORAL_CODEC_KEYS":           devCodecKeyID + ":" + devCodecKey,
		"TEMPORAL_CODEC_CORS_ORIGINS":   "http://127.0.0.1:1005,http://localhost:1005",
		"TEMPORAL_WORKFLOW_CACHE_SIZE":  "50",
		"TEMPORAL_PROFILE":              "",
		"TEMPORAL_API_KEY":              "",
		"TEMPORAL_TLS":                  "",
		"TEMPORAL_TLS_CLIENT_CERT_PATH": "",
		"TEMPORAL_GRPC_META_X_TENANT":   "",
		"TEMPORAL_CODEC_KEYS_FILE":      "",
	} {
		if got := lookup(env, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if got := lookup(o.serviceEnv("worker", nil), "TEMPORAL_CODEC_CORS_ORIGINS"); got != "" {
		t.Errorf("the worker gets TEMPORAL_CODEC_CORS_ORIGINS=%q, which only the intake reads", got)
	}
	cfg, err := temporalx.LoadConfig(temporalx.EnvList(env), false)
	if err != nil {
		t.Fatalf("the services cannot read the stack's settings: %v", err)
	}
	if cfg.Codec == nil || cfg.Client.HostPort != o.TemporalAddress || cfg.Client.Credentials != nil || cfg.Client.ConnectionOptions.TLS != nil {
		t.Errorf("the services would dial %s (codec %v, credentials %v, TLS %v)", cfg.Client.HostPort, cfg.Codec != nil,
			cfg.Client.Credentials != nil, cfg.Client.ConnectionOptions.TLS != nil)
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
