package lifecycle

import (
	"fmt"
	"testing"
	"time"

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
