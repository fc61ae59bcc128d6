package refclient

import (
	"context"
	"net/http"
	"strconv"
)

// The release routes answer 409 with one of these codes when they do not apply.
const (
	CodeReleaseTrainsOff = "release_trains_off" // the deployment publishes immediately
	CodeReleaseEmpty     = "release_empty"      // nothing is staged: there is nothing to cut
)

// NextVersion asks the reads that take a version for the next release: the current
// version with the change sets staged so far (signed in, release trains only).
const NextVersion = -1

// VersionQuery is the ?version= of a read: none for the current version (0), the number
// of a past one, or next.
func VersionQuery(version int) string {
	switch {
	case version == NextVersion:
		return "?version=next"
	case version > 0:
		return "?version=" + strconv.Itoa(version)
	}
	return ""
}

// Releases lists the releases, newest first (the unpublished ones for signed-in callers).
func (c *Client) Releases(ctx context.Context) ([]Release, error) {
	var out struct {
		Items []Release `json:"items"`
	}
	return out.Items, c.api.Do(ctx, http.MethodGet, "/v1/releases", nil, &out)
}

// NextRelease returns the release that accepts staged change sets (signed in).
func (c *Client) NextRelease(ctx context.Context) (*Release, error) {
	var r Release
	return &r, c.api.Do(ctx, http.MethodGet, "/v1/releases/next", nil, &r)
}

// Release returns release n.
func (c *Client) Release(ctx context.Context, n int) (*Release, error) {
	var r Release
	return &r, c.api.Do(ctx, http.MethodGet, "/v1/releases/"+strconv.Itoa(n), nil, &r)
}

// FreezeRelease freezes the open release (role service): change sets staged from then on
// go to the next one. A release already frozen and not yet published is returned as it
// is, so that a release workflow that runs again resumes it.
func (c *Client) FreezeRelease(ctx context.Context) (*Release, error) {
	var r Release
	return &r, c.api.Do(ctx, http.MethodPost, "/v1/releases/next:freeze", nil, &r)
}

// ValidateRelease re-validates every change set of frozen release n against the current
// version and the ones staged before it (role service): those that no longer apply are
// returned, with their results.
func (c *Client) ValidateRelease(ctx context.Context, n int) (*Release, error) {
	var r Release
	return &r, c.api.Do(ctx, http.MethodPost, "/v1/releases/"+strconv.Itoa(n)+":validate", nil, &r)
}

// PublishRelease publishes the included change sets of release n as one version, with
// its notes (role service). Publishing a published release again answers it as it is.
func (c *Client) PublishRelease(ctx context.Context, n int) (*Release, error) {
	var r Release
	return &r, c.api.Do(ctx, http.MethodPost, "/v1/releases/"+strconv.Itoa(n)+":publish", nil, &r)
}
