// Package groupsync is the contract of the Entra group synchronisation: one long-running
// workflow (WorkflowID) reads, through Microsoft Graph's delta queries, the members of the
// Entra groups whose members are the platform's moderators and admins, and has the intake
// apply each read to the directory, so that people are known before they first sign in and
// leave with their group. Services import this package, never the workflow's
// implementation (package groupsync/sync).
package groupsync

import "time"

// WorkflowType is the registered name of the synchronisation workflow.
const WorkflowType = "EntraGroupSync"

// WorkflowID is the one synchronisation of a namespace: the worker signals it, or starts
// it, with the configured groups (SignalConfigure).
const WorkflowID = "entra-group-sync"

// SignalConfigure carries a Config to the running synchronisation (a worker started with
// other groups or another interval).
const SignalConfigure = "configure"

// Group is an Entra group whose members hold Role ("moderator" or "admin").
type Group struct {
	Role string `json:"role"`
	ID   string `json:"id"`
}

// Config is what the worker configures (ENTRA_MODERATORS_GROUP_ID, ENTRA_ADMINS_GROUP_ID,
// ENTRA_SYNC_INTERVAL).
type Config struct {
	Groups   []Group       `json:"groups"`
	Interval time.Duration `json:"interval"`
}

// DefaultInterval is how often the groups are read when the worker does not say.
const DefaultInterval = 15 * time.Minute

// Input starts (or continues) the synchronisation.
type Input struct {
	Config Config `json:"config"`
	// DeltaLinks are Graph's links to each group's changes since the last read, by group
	// id (empty: the next read is a full one).
	DeltaLinks map[string]string `json:"deltaLinks,omitempty"`
}

// Member is a member of a group, as Graph describes them.
type Member struct {
	EntraID string `json:"entraId"`
	Name    string `json:"name"`
	Email   string `json:"email"`
}

// Read is one read of a group for the intake (its POST /internal/v1/group-members): the
// members who joined (all of them when Full) and the Entra ids of those who left.
type Read struct {
	Role    string   `json:"role"`
	Members []Member `json:"members"`
	Removed []string `json:"removed"`
	Full    bool     `json:"full"`
}

// Report counts what a read changed in the directory.
type Report struct {
	Added       int `json:"added"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
}
