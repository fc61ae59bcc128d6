package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/notifications"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// maxNamed bounds the codes a finding names; the moderator's page lists them all.
const maxNamed = 10

// impactFindings words what an operation touches beyond its change as warnings for the
// moderator. They come from the dry run's result, recorded in the history: a history
// recorded before the referential reported impacts replays with none, so no version
// guard is needed. followers counts the people who follow each fiche (countFollowers).
func impactFindings(r refclient.Result, followers map[string]int) []request.Finding {
	im := r.Impact
	if im == nil {
		return nil
	}
	var out []request.Finding
	add := func(code, field, msg string) {
		out = append(out, request.Finding{Code: code, Severity: request.SeverityWarning, OperationID: r.OperationID, Field: field, Message: msg})
	}
	fiches := strings.Join(im.Fiches, ", ")
	if n := len(im.Mobilites); n > 0 {
		codes := make([]string, n)
		for i, m := range im.Mobilites {
			codes[i] = m.CodeRome + "→" + m.CodeRomeCible
		}
		add(request.FindingImpactMobilites, "", fmt.Sprintf("%d mobilité(s) of other fiches lead to %s: %s", n, fiches, named(codes)))
	}
	if n := len(im.OrphanAppellations); n > 0 {
		add(request.FindingImpactOrphanAppellations, "replacedBy", fmt.Sprintf("%d appellation(s) left without a fiche nor a replacement: %s", n, named(refs(im.OrphanAppellations))))
	}
	if n := len(im.OrphanItems); n > 0 {
		add(request.FindingImpactOrphanItems, "codeOgr", fmt.Sprintf("no fiche carries %s any more", named(refs(im.OrphanItems))))
	}
	if im.Subscribers > 0 {
		add(request.FindingImpactSubscribers, "", fmt.Sprintf("%d webhook endpoint(s) are notified of changes to %s", im.Subscribers, fiches))
	}
	for _, code := range im.Fiches {
		if n := followers[code]; n > 0 {
			add(request.FindingImpactFollowers, "", fmt.Sprintf("%d person(s) follow %s", n, code))
		}
	}
	return out
}

func refs(rs []refclient.ImpactRef) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%s %q", r.CodeOgr, r.Libelle)
	}
	return out
}

// named lists at most maxNamed of items, saying how many more there are.
func named(items []string) string {
	if len(items) <= maxNamed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxNamed], ", "), len(items)-maxNamed)
}

// The change that counts the people who follow the fiches an operation touches
// (FindingImpactFollowers): checks recorded before it replay without the call.
const (
	followersChange  = "impact-followers"
	followersVersion = 1
)

// followersOptions: the count is informative and the checks wait for it (an amendment's
// author too): a few quick attempts, then the checks go on without it.
var followersOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    5 * time.Second,
	ScheduleToCloseTimeout: 15 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumAttempts:        3,
		NonRetryableErrorTypes: []string{notifications.ErrTypeCountRefused},
	},
}

// countFollowers starts counting the people who follow fiches; nil when there is nothing
// to count, or when the checks run as they were recorded before followersChange.
func (w *lifecycle) countFollowers(ctx workflow.Context, fiches []string) workflow.Future {
	if len(fiches) == 0 || workflow.GetVersion(ctx, followersChange, workflow.DefaultVersion, followersVersion) == workflow.DefaultVersion {
		return nil
	}
	return w.call(ctx, followersOptions, notifyActs.CountFollowers, notifications.CountFollowersInput{CodesRome: fiches})
}

// followers waits for the count countFollowers started: the people who follow each fiche.
// When the notifications service cannot tell, the checks go on without it (nil): the
// count informs the moderator, it decides nothing.
func (w *lifecycle) followers(ctx workflow.Context, counting workflow.Future) map[string]int {
	if counting == nil {
		return nil
	}
	var out notifications.CountFollowersOutput
	if err := counting.Get(ctx, &out); err != nil {
		w.logger.Warn("followers not counted: the checks go on without them", "error", err)
		return nil
	}
	followers := make(map[string]int, len(out.Counts))
	for _, c := range out.Counts {
		followers[c.CodeRome] = c.Followers
	}
	return followers
}
