// Package syncflow is the Entra group synchronisation workflow (its contract: package
// groupsync): every interval it reads each configured group's changes through Graph's
// delta query and has the intake apply them to the directory, keeping each group's delta
// link; it continues as new before its history grows large.
package syncflow

import (
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/workflows/groupsync"
)

// Register registers the workflow and the intake's directory activities on a worker where
// the Teams activities (which read the groups) are registered.
func Register(r worker.Registry, in *intake.DirectoryActivities) {
	r.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: groupsync.WorkflowType})
	r.RegisterActivity(in)
}

// Activity method values: the workflow never calls an activity by its name.
var (
	intakeActs *intake.DirectoryActivities
	teamsActs  *teams.Activities
)

// callOptions: a round's calls are retried for a few minutes; a group whose read still
// fails is read again at the next round (its delta link kept), so one bad group never
// stops the others.
var callOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
		MaximumAttempts:    6,
	},
}

// roundsPerRun bounds a run's history (about 15 events a round and group): the workflow
// continues as new after that many rounds, or sooner when Temporal suggests it.
const roundsPerRun = 100

// Workflow synchronises the configured groups until it is cancelled.
func Workflow(ctx workflow.Context, in groupsync.Input) error {
	cfg, links := in.Config, in.DeltaLinks
	if links == nil {
		links = map[string]string{}
	}
	configure := workflow.GetSignalChannel(ctx, groupsync.SignalConfigure)
	logger := workflow.GetLogger(ctx)
	ctx = workflow.WithActivityOptions(ctx, callOptions)
	for round := 0; round < roundsPerRun && !workflow.GetInfo(ctx).GetContinueAsNewSuggested(); round++ {
		for _, g := range cfg.Groups {
			if err := syncGroup(ctx, g, links); err != nil {
				logger.Error("group not synchronised this round", "group", g.ID, "role", g.Role, "error", err)
			}
		}
		interval := cfg.Interval
		if interval <= 0 {
			interval = groupsync.DefaultInterval
		}
		// Wait for the next round, or for a new configuration (read at once).
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(workflow.NewTimerWithOptions(ctx, interval, workflow.TimerOptions{Summary: "next round"}), func(workflow.Future) {})
		sel.AddReceive(configure, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, &cfg)
			kept := map[string]string{} // a group no longer configured loses its link
			for _, g := range cfg.Groups {
				if link, ok := links[g.ID]; ok {
					kept[g.ID] = link
				}
			}
			links = kept
		})
		sel.Select(ctx)
	}
	for configure.ReceiveAsync(&cfg) { // a configuration sent meanwhile is not lost
	}
	return workflow.NewContinueAsNewError(ctx, groupsync.WorkflowType, groupsync.Input{Config: cfg, DeltaLinks: links})
}

// syncGroup reads one group's changes (all its members without a delta link), has the
// intake apply them, then keeps the new delta link.
func syncGroup(ctx workflow.Context, g groupsync.Group, links map[string]string) error {
	var delta teams.GroupMembersDeltaOutput
	opts := callOptions
	opts.Summary = "read the " + g.Role + " group"
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), teamsActs.GroupMembersDelta,
		teams.GroupMembersDeltaInput{GroupID: g.ID, DeltaLink: links[g.ID]}).Get(ctx, &delta)
	if err != nil {
		return err
	}
	read := groupsync.Read{Role: g.Role, Removed: delta.Removed, Full: delta.Full || links[g.ID] == ""}
	for _, m := range delta.Members {
		read.Members = append(read.Members, groupsync.Member{EntraID: m.ID, Name: m.DisplayName, Email: mailOf(m)})
	}
	opts.Summary = "apply the " + g.Role + " group to the directory"
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), intakeActs.SyncGroup,
		intake.SyncGroupInput{Read: read}).Get(ctx, nil); err != nil {
		return err
	}
	links[g.ID] = delta.DeltaLink
	return nil
}

// mailOf is a member's e-mail address: their mail, else their user principal name when it
// is one (a guest's UPN is not).
func mailOf(m teams.GroupMember) string {
	if m.Mail != "" {
		return m.Mail
	}
	if strings.Contains(m.UserPrincipalName, "#EXT#") { // a guest's: name_domain#EXT#@tenant
		return ""
	}
	return m.UserPrincipalName
}
