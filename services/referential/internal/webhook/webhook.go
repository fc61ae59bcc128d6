// Package webhook is what the referential's webhooks are made of, apart from storage and
// transport: the events and their payloads, Standard Webhooks signatures
// (https://www.standardwebhooks.com), the endpoint URL rules and the retry schedule.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event types. release.published follows the version.published and fiche.changed events of
// a version that a release published (release trains).
const (
	VersionPublished = "version.published"
	FicheChanged     = "fiche.changed"
	ReleasePublished = "release.published"
)

// Types lists the event types an endpoint may subscribe to.
var Types = []string{VersionPublished, FicheChanged, ReleasePublished}

// Envelope is the body of every delivery, as the Standard Webhooks specification
// recommends: the type, when the event happened, and its data.
type Envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Links are the referential's paths that say more about an event, relative to its base URL.
type Links map[string]string

// VersionData is the data of version.published.
type VersionData struct {
	Version     int       `json:"version"`
	Label       string    `json:"label"`
	Source      string    `json:"source"` // "changeset", "release" or "import" (an official release re-imported)
	PublishedAt time.Time `json:"publishedAt"`
	ChangesetID *string   `json:"changesetId"` // null for a release (its change sets are in release.published) or an import
	RequestID   *string   `json:"requestId"`
	Release     *int      `json:"release,omitempty"` // the release that published it
	// CodesRome are the fiches the version changed; a re-import does not list them (its
	// delta does).
	CodesRome []string `json:"codesRome"`
	Links     Links    `json:"links"`
}

// FicheData is the data of fiche.changed: one fiche's changes in one version.
type FicheData struct {
	CodeRome    string            `json:"codeRome"`
	Version     int               `json:"version"`
	PublishedAt time.Time         `json:"publishedAt"`
	ChangesetID string            `json:"changesetId"`
	RequestID   string            `json:"requestId,omitempty"`
	Changes     []json.RawMessage `json:"changes"` // as in GET /v1/changes
	Links       Links             `json:"links"`
}

// ReleaseData is the data of release.published: a release published as one version.
type ReleaseData struct {
	Release     int                `json:"release"`
	Version     int                `json:"version"`
	PublishedAt time.Time          `json:"publishedAt"`
	ChangeSets  []ReleaseChangeSet `json:"changeSets"` // included and returned, in the order they were staged
	Links       Links              `json:"links"`
}

// ReleaseChangeSet is a change set of a published release: included (published in its
// version) or returned to the request's moderators.
type ReleaseChangeSet struct {
	ID        string `json:"id"`
	RequestID string `json:"requestId,omitempty"`
	CodeRome  string `json:"codeRome"`
	Status    string `json:"status"`
}

// ReleaseLinks are the links of a release's event: the release, its notes and its delta.
func ReleaseLinks(release, version int) Links {
	return Links{
		"release": fmt.Sprintf("/v1/releases/%d", release),
		"notes":   fmt.Sprintf("/v1/releases/%d/notes", release),
		"delta":   fmt.Sprintf("/v1/versions/%d/delta", version),
	}
}

// VersionLinks are the links of a version's event: its changes in the feed and its delta.
func VersionLinks(version int) Links {
	return Links{
		"changes": fmt.Sprintf("/v1/changes?since=%d", version-1),
		"delta":   fmt.Sprintf("/v1/versions/%d/delta", version),
	}
}

// FicheLinks are the links of a fiche's event: the fiche at that version and its history.
func FicheLinks(code string, version int) Links {
	return Links{
		"fiche":   fmt.Sprintf("/v1/fiches/%s?version=%d", code, version),
		"history": fmt.Sprintf("/v1/fiches/%s/history", code),
	}
}

// EventID names an event for good: the same publication always gives the same ids, so
// recording its events again is a no-op.
func EventID(typ string, version int, codeRome string) string {
	return "evt_" + digest(typ, strconv.Itoa(version), codeRome)
}

// MessageID is the webhook-id of an event's delivery to an endpoint: the same on every
// attempt and replay, so that a consumer drops what it already processed by this id.
func MessageID(endpointID, eventID string) string {
	return "msg_" + digest(endpointID, eventID)
}

func digest(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:12])
}

// SecretPrefix starts every signing secret, as the Standard Webhooks libraries expect.
const SecretPrefix = "whsec_"

// NewSecret makes a signing secret: 32 random bytes (the specification asks for 24 to 64).
func NewSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand never fails (Go 1.24+)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ErrSecret is a secret that is not whsec_ followed by base64.
var ErrSecret = errors.New("a signing secret is whsec_ followed by base64")

// Sign returns one signature, "v1,<base64 HMAC-SHA256>", of the content msgID.timestamp.body
// under secret.
func Sign(secret, msgID string, timestamp time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return "", ErrSecret
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(timestamp.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Headers are the Standard Webhooks headers of one attempt: the message id, the attempt's
// time, and a signature per secret (the current one and, during a rotation's grace period,
// the previous one), space-separated, so that a consumer verifies with either.
func Headers(secrets []string, msgID string, at time.Time, body []byte) (map[string]string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Sign(s, msgID, at, body)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, sig)
	}
	return map[string]string{
		"webhook-id":        msgID,
		"webhook-timestamp": strconv.FormatInt(at.Unix(), 10),
		"webhook-signature": strings.Join(sigs, " "),
	}, nil
}

// Matches tells whether an endpoint subscribed to events, filtered by codesRome, receives
// an event of type typ about the fiches codes. No filter: every event of the type. An event
// that names no fiche (a re-import, whose fiches are not listed) goes to every subscriber.
func Matches(events, codesRome []string, typ string, codes []string) bool {
	if !slices.Contains(events, typ) {
		return false
	}
	if len(codesRome) == 0 || len(codes) == 0 {
		return true
	}
	return slices.ContainsFunc(codes, func(c string) bool { return slices.Contains(codesRome, c) })
}
