package teams_test

import (
	"crypto/tls"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/tools/graphemu"
)

// The production path: configuration from the environment, the emulator's self-signed
// certificate trusted through GRAPH_CA_FILE, no transport override.
func TestConfigFromEnvAgainstTheEmulatorOverTLS(t *testing.T) {
	cert, pem, err := graphemu.SelfSignedCertificate("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	emu := graphemu.New(graphemu.Config{})
	srv := httptest.NewUnstartedServer(emu)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"GRAPH_TENANT_ID": graphemu.DefaultTenantID, "GRAPH_CLIENT_ID": graphemu.DefaultClientID,
		"GRAPH_CLIENT_SECRET": graphemu.DefaultClientSecret, "GRAPH_BASE_URL": srv.URL + "/v1.0",
		"GRAPH_AUTHORITY_HOST": srv.URL, "GRAPH_TEAM_ID": graphemu.DefaultTeamID,
		"GRAPH_PRIVATE_CHANNELS": "false", "GRAPH_CA_FILE": caFile,
	} {
		t.Setenv(k, v)
	}
	cfg, err := teams.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	acts, err := teams.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	if _, err := env.ExecuteActivity(acts.CreateChannel, request); err != nil {
		t.Fatal(err)
	}
	if n := len(emu.State().Teams[0].Channels); n != 1 {
		t.Fatalf("want 1 channel, got %d", n)
	}
	t.Setenv("GRAPH_CHANNEL_OWNERS", " aad-1, ,aad-2 ")
	if cfg, err := teams.ConfigFromEnv(); err != nil || len(cfg.ChannelOwners) != 2 || cfg.ChannelOwners[1] != "aad-2" {
		t.Fatalf("owners: %+v %v", cfg.ChannelOwners, err)
	}
	t.Setenv("GRAPH_PRIVATE_CHANNELS", "maybe")
	if _, err := teams.ConfigFromEnv(); err == nil {
		t.Fatal("a bad GRAPH_PRIVATE_CHANNELS must be refused")
	}
}
