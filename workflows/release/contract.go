// Package release is the contract of the release-train workflow. Under release trains (the
// referential's PUBLICATION_MODE=release_trains) an accepted change set waits in the
// referential's open release, its request ACCEPTED; a release workflow, started by the
// Temporal Schedule ScheduleID or by an admin (the intake's POST /v1/releases), cuts that
// release: it freezes it, re-validates its change sets together, sends those that no
// longer apply back to their requests' moderators, publishes the rest as one version and
// tells every request what became of its change set (request.SignalReleaseOutcome).
// Services import this package, never the workflow's implementation.
package release

import (
	"strconv"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// WorkflowType is the registered name of the release workflow.
const WorkflowType = "ReleaseTrain"

// TaskQueue is the requests' one: the worker that runs the requests runs their releases.
const TaskQueue = request.TaskQueue

// WorkflowID is the workflow id of an admin's cut of release n: one at a time.
func WorkflowID(n int) string { return "release-" + strconv.Itoa(n) }

// ScheduleID is the Temporal Schedule that cuts releases on the calendar (the worker's
// RELEASE_SCHEDULE); the workflows it starts have ids "release-train-<time>".
const ScheduleID = "release-train"

// Input starts a release workflow.
type Input struct {
	// Release is the open release when an admin asked for the cut (0 when the schedule
	// started it). The workflow cuts the release the referential freezes: it is another one
	// when another run has cut this one meanwhile, or left one frozen to resume.
	Release int `json:"release,omitempty"`
}

// Output is what the release did.
type Output struct {
	// Release is the release as published (its change sets included or returned, the
	// version, the notes); nil when nothing was staged.
	Release *refclient.Release `json:"release"`
	// Unreached are the requests whose workflow no longer runs: they were not told.
	Unreached []string `json:"unreached,omitempty"`
	// Summary says it in one line, for the Temporal UI.
	Summary string `json:"summary"`
}
