package intake

import (
	"context"

	"github.com/plateforme-rome/rome/workflows/groupsync"
)

// DirectoryAPI is the intake's internal interface the Entra group synchronisation uses
// (implemented over HTTP by the intake's client package).
type DirectoryAPI interface {
	// SyncGroup applies one read of a group's members to the directory; the same read
	// again changes nothing.
	SyncGroup(ctx context.Context, r groupsync.Read) (groupsync.Report, error)
}

// DirectoryActivities are the synchronisation's calls to the intake, registered on the
// worker.
type DirectoryActivities struct {
	Intake DirectoryAPI
}

// SyncGroupInput is one read of a group.
type SyncGroupInput struct {
	Read groupsync.Read `json:"read"`
}

// SyncGroupOutput counts what it changed.
type SyncGroupOutput struct {
	Report groupsync.Report `json:"report"`
}

// SyncGroup applies one read of a group's members to the directory, idempotently, their
// names and addresses cleaned as the directory takes them (Graph's are free text).
func (a *DirectoryActivities) SyncGroup(ctx context.Context, in SyncGroupInput) (SyncGroupOutput, error) {
	read := in.Read
	read.Members = make([]groupsync.Member, len(in.Read.Members))
	for i, m := range in.Read.Members {
		read.Members[i] = m.Cleaned()
	}
	r, err := a.Intake.SyncGroup(ctx, read)
	return SyncGroupOutput{Report: r}, err
}
