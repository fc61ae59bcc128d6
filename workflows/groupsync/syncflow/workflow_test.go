package syncflow

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/workflows/groupsync"
)

// TestRounds: the first read of each group is a full one, later reads follow its delta
// link; a group Graph refuses is skipped without stopping the others; a new configuration
// is read at once and drops the links of groups no longer configured; after roundsPerRun
// rounds the workflow continues as new with its links.
func TestRounds(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: groupsync.WorkflowType})
	env.RegisterActivity(&intake.DirectoryActivities{})
	env.RegisterActivity(&teams.Activities{})

	var mu sync.Mutex              // the activities run on goroutines of their own
	reads := map[string][]string{} // the delta links each group was read with
	env.OnActivity(teamsActs.GroupMembersDelta, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.GroupMembersDeltaInput) (teams.GroupMembersDeltaOutput, error) {
			mu.Lock()
			defer mu.Unlock()
			reads[in.GroupID] = append(reads[in.GroupID], in.DeltaLink)
			if in.GroupID == "g-broken" {
				return teams.GroupMembersDeltaOutput{}, temporal.NewNonRetryableApplicationError("no such group", "TeamsRejected", nil)
			}
			out := teams.GroupMembersDeltaOutput{DeltaLink: in.GroupID + "-link"}
			if in.DeltaLink == "" {
				out.Full = true
				out.Members = []teams.GroupMember{{ID: "oid-1", DisplayName: "Mona", Mail: "mona@francetravail.fr"},
					{ID: "oid-2", DisplayName: "Guest", UserPrincipalName: "guest_example.org#EXT#@tenant.onmicrosoft.com"}}
			}
			return out, nil
		})
	var applied []groupsync.Read
	env.OnActivity(intakeActs.SyncGroup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in intake.SyncGroupInput) (intake.SyncGroupOutput, error) {
			mu.Lock()
			defer mu.Unlock()
			applied = append(applied, in.Read)
			return intake.SyncGroupOutput{}, nil
		})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(groupsync.SignalConfigure, groupsync.Config{Groups: []groupsync.Group{{Role: "admin", ID: "g-admins"}}, Interval: time.Hour})
	}, 150*time.Minute)

	env.ExecuteWorkflow(groupsync.WorkflowType, groupsync.Input{Config: groupsync.Config{Interval: time.Hour, Groups: []groupsync.Group{
		{Role: "moderator", ID: "g-moderators"}, {Role: "admin", ID: "g-admins"}, {Role: "admin", ID: "g-broken"}}}})

	var next *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &next) {
		t.Fatalf("the workflow ended with %v, want to continue as new", err)
	}
	var in groupsync.Input
	if err := converter.GetDefaultDataConverter().FromPayloads(next.Input, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Config.Groups) != 1 || in.DeltaLinks["g-admins"] != "g-admins-link" || len(in.DeltaLinks) != 1 {
		t.Fatalf("continued with %+v", in)
	}
	if m := reads["g-moderators"]; len(m) != 3 || m[0] != "" || m[1] != "g-moderators-link" {
		t.Errorf("the moderators' group was read with %q (3 rounds before the new configuration)", m)
	}
	if a := reads["g-admins"]; len(a) != roundsPerRun || a[0] != "" || a[len(a)-1] != "g-admins-link" {
		t.Errorf("the admins' group was read %d times", len(a))
	}
	if len(reads["g-broken"]) != 3 {
		t.Errorf("the broken group was tried %d times, want once a round until it was dropped", len(reads["g-broken"]))
	}
	first := applied[0]
	if !first.Full || first.Role != "moderator" || len(first.Members) != 2 || first.Members[0].Email != "mona@francetravail.fr" || first.Members[1].Email != "" {
		t.Errorf("first read applied %+v", first)
	}
	if applied[2].Full {
		t.Errorf("a delta read applied as full: %+v", applied[2])
	}
}
