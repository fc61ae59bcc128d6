package teams_test

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/platform/telemetry/telemetrytest"
	"github.com/plateforme-rome/rome/tools/graphemu"
)

// Graph's refusals are counted by operation and status; the answers an activity expects
// (the channel its lost attempt created) are not.
func TestGraphErrorsAreCountedByOperationAndStatus(t *testing.T) {
	emu := graphemu.New(graphemu.Config{})
	srv := httptest.NewTLSServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	meter, metrics := telemetrytest.NewMeter(t)
	acts, err := teams.New(teams.Config{
		TenantID: graphemu.DefaultTenantID, ClientID: graphemu.DefaultClientID, ClientSecret: graphemu.DefaultClientSecret,
		BaseURL: srv.URL + "/v1.0", AuthorityHost: srv.URL, TeamID: graphemu.DefaultTeamID, Transport: srv.Client().Transport,
		RequestTimeout: 700 * time.Millisecond, Meter: meter,
	})
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)

	emu.AddFault(graphemu.Fault{Method: "POST", PathPrefix: "/v1.0/teams/", Status: 429, Times: 2})
	for range 2 {
		if _, err := env.ExecuteActivity(acts.CreateChannel, request); err == nil {
			t.Fatal("Graph answered 429, the activity succeeded")
		}
	}
	emu.AddFault(graphemu.Fault{PathPrefix: "/v1.0/", Status: 503, Times: 1})
	if _, err := env.ExecuteActivity(acts.CreateChannel, request); err == nil {
		t.Fatal("Graph answered 503, the activity succeeded")
	}

	for _, c := range []struct {
		op     string
		status int
		want   int64
	}{{"create channel", 429, 2}, {"find channel", 503, 1}} {
		got := metrics.Int64(telemetry.GraphErrors, telemetry.AttrGraphOperation.String(c.op),
			telemetry.AttrHTTPResponseStatus.Int(c.status), telemetry.AttrErrorType.String(strconv.Itoa(c.status)))
		if got != c.want {
			t.Errorf("%s answered %d: %d errors counted, want %d", c.op, c.status, got, c.want)
		}
	}
}
