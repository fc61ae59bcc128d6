package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// The impact of a removal reaches the moderator as warnings, which do not keep the
// operation from being accepted and published.
func TestImpactBecomesWarnings(t *testing.T) {
	h := newHarness(t, options{})
	var mobilites []refclient.MobiliteImpact
	for i := 1; i <= 12; i++ {
		mobilites = append(mobilites, refclient.MobiliteImpact{CodeRome: fmt.Sprintf("M18%02d", i), Libelle: "Fiche", CodeRomeCible: "M1805", Rang: i})
	}
	h.validate = func(_ int, cs refclient.ChangeSet) (refclient.Validation, error) {
		v := validation(60, cs, nil)
		v.Results[1].Impact = &refclient.Impact{Fiches: []string{"M1805"}, Mobilites: mobilites, Subscribers: 2,
			OrphanAppellations: []refclient.ImpactRef{{CodeOgr: "10944", Libelle: "Analyste développeur", CodeRome: "M1805"}}}
		return v, nil
	}
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	decide := h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted},
		{OperationID: "op-2", Decision: request.DecisionAccepted},
		{OperationID: "op-3", Decision: request.DecisionAccepted},
	}})
	out := h.run(request.Input{Request: newRequest()})

	want := []request.Finding{
		{Code: request.FindingImpactMobilites, Severity: request.SeverityWarning, OperationID: "op-2",
			Message: "12 mobilité(s) of other fiches lead to M1805: M1801→M1805, M1802→M1805, M1803→M1805, M1804→M1805, M1805→M1805, " +
				"M1806→M1805, M1807→M1805, M1808→M1805, M1809→M1805, M1810→M1805 and 2 more"},
		{Code: request.FindingImpactOrphanAppellations, Severity: request.SeverityWarning, OperationID: "op-2", Field: "replacedBy",
			Message: `1 appellation(s) left without a fiche nor a replacement: 10944 "Analyste développeur"`},
		{Code: request.FindingImpactSubscribers, Severity: request.SeverityWarning, OperationID: "op-2",
			Message: "2 webhook endpoint(s) are notified of changes to M1805"},
	}
	sameJSON(t, "findings after the checks", h.events[1].Request.Findings, want)
	if r := decide.ok(t); r.Request.Status != request.StatusPublishing {
		t.Errorf("decide answered %s: warnings must not block the decision", r.Request.Status)
	}
	if out.Request.Status != request.StatusPublished || len(h.published) != 1 || len(h.published[0].Operations) != 3 {
		t.Errorf("final %s, published %+v", out.Request.Status, h.published)
	}
}

// moveWithImpact is a referential on which op-2 moves an appellation from M1805 to M1806,
// which a webhook endpoint watches.
func moveWithImpact(_ int, cs refclient.ChangeSet) (refclient.Validation, error) {
	v := validation(60, cs, nil)
	v.Results[1].Impact = &refclient.Impact{Fiches: []string{"M1805", "M1806"}, Subscribers: 1}
	return v, nil
}

// checkedFindings runs the request until the checks end, then withdraws it, and gives the
// findings the checks recorded.
func checkedFindings(t *testing.T, h *harness) []request.Finding {
	t.Helper()
	h.update(time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice, Reason: "moved elsewhere"})
	h.run(request.Input{Request: newRequest()})
	if len(h.events) < 2 || h.events[1].Type != request.EventChecked {
		t.Fatalf("the checks did not complete: %+v", h.events)
	}
	return h.events[1].Request.Findings
}

// The moderator learns how many people follow each fiche an operation touches, for the
// fiches someone follows.
func TestImpactNamesTheFichesFollowers(t *testing.T) {
	h := newHarness(t, options{})
	h.validate = moveWithImpact
	h.followers = func(codes []string) ([]notifclient.FollowerCount, error) {
		return []notifclient.FollowerCount{{CodeRome: "M1805", Followers: 3}, {CodeRome: "M1806"}}, nil
	}
	sameJSON(t, "findings after the checks", checkedFindings(t, h), []request.Finding{
		{Code: request.FindingImpactSubscribers, Severity: request.SeverityWarning, OperationID: "op-2",
			Message: "1 webhook endpoint(s) are notified of changes to M1805, M1806"},
		{Code: request.FindingImpactFollowers, Severity: request.SeverityWarning, OperationID: "op-2", Message: "3 person(s) follow M1805"},
	})
	if len(h.counted) != 1 || !slices.Equal(h.counted[0], []string{"M1805", "M1806"}) {
		t.Errorf("followers counted for %v, want M1805 and M1806 once", h.counted)
	}
}

// Nobody follows the fiches: no finding. No operation with an impact: nothing is counted.
func TestImpactWithoutFollowers(t *testing.T) {
	h := newHarness(t, options{})
	h.validate = moveWithImpact
	if slices.ContainsFunc(checkedFindings(t, h), func(f request.Finding) bool { return f.Code == request.FindingImpactFollowers }) || len(h.counted) != 1 {
		t.Errorf("nobody follows: findings %+v after %d counts", h.events[1].Request.Findings, len(h.counted))
	}
	h = newHarness(t, options{})
	if checkedFindings(t, h); len(h.counted) != 0 {
		t.Errorf("followers counted for %v without any impact", h.counted)
	}
}

// The count informs, it decides nothing: the notifications service down, the checks
// complete with the other findings after a few attempts.
func TestImpactFollowersUnavailable(t *testing.T) {
	h := newHarness(t, options{})
	h.validate = moveWithImpact
	h.followers = func([]string) ([]notifclient.FollowerCount, error) {
		return nil, errors.New("notifications unavailable")
	}
	sameJSON(t, "findings after the checks", checkedFindings(t, h), []request.Finding{
		{Code: request.FindingImpactSubscribers, Severity: request.SeverityWarning, OperationID: "op-2",
			Message: "1 webhook endpoint(s) are notified of changes to M1805, M1806"},
	})
	// A local attempt, then the activity's.
	if want := 1 + int(followersOptions.RetryPolicy.MaximumAttempts); len(h.counted) != want {
		t.Errorf("%d attempts to count the followers, want %d", len(h.counted), want)
	}
}
