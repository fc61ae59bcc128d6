// Package groupsync is the contract of the Entra group synchronisation: one long-running
// workflow (WorkflowID) reads, through Microsoft Graph's delta queries, the members of the
// Entra groups whose members are the platform's moderators and admins, and has the intake
// apply each read to the directory, so that people are known before they first sign in and
// leave with their group. Services import this package, never the workflow's
// implementation (package groupsync/sync).
package groupsync

import (
	"cmp"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/textrule"
)

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

// nameRule is the directory's rule for a person's name.
var nameRule = textrule.Rule{Name: "name", Max: 200}

// Cleaned is m as the directory takes it: a name that breaks the directory's text rules is
// replaced by the e-mail address, or the Entra id; an e-mail that is not an address is
// dropped. Graph's data is cleaned so before it reaches the intake, which refuses anything
// else.
func (m Member) Cleaned() Member {
	if !auth.IsAddress(m.Email) || len(m.Email) > 254 {
		m.Email = ""
	}
	if textrule.Clean("name", &m.Name, nameRule, true) != nil {
		m.Name = cmp.Or(m.Email, m.EntraID)
	}
	return m
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
