package ui

import (
	"cmp"
	"slices"
	"time"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

// refVersion is a version in a select.
type refVersion struct {
	Version     int
	Label       string
	PublishedAt time.Time
}

// refVersions are the referential's versions, newest first.
func refVersions(vs []backend.Version) []refVersion {
	out := make([]refVersion, 0, len(vs))
	for _, v := range vs {
		out = append(out, refVersion{Version: v.Version, Label: v.Label, PublishedAt: v.PublishedAt})
	}
	slices.SortFunc(out, func(a, b refVersion) int { return cmp.Compare(b.Version, a.Version) })
	return out
}
