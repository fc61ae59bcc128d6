package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/plateforme-rome/rome/workflows/release"
)

// TestReleaseTrains runs a stack that publishes by release trains (PUBLICATION_MODE): two
// requests on the same fiche are accepted and wait in the next release while consumers
// still read the current version; an admin cuts the release; its workflow publishes the
// first request in one version and sends the second, which no longer applies after the
// first, back to its moderator with the findings.
func TestReleaseTrains(t *testing.T) {
	p := startPlatform(t, "PUBLICATION_MODE=release_trains")
	who := cast(t, p, "release")
	admin := devToken(t, p, "admin-release", "admin", "")
	before := referentialVersion(t, p)

	// F1703's appellation 11366: the first request removes it, the second renames it.
	removal := submit(t, p, who.partner, map[string]any{"kind": "modify_fiche", "codeRome": "F1703", "title": "Retrait d'un libellé obsolète",
		"justification": "Libellé obsolète.", "operations": []map[string]any{{"op": "remove_appellation", "codeOgr": "11366", "reason": "Obsolète"}}})
	rename := submit(t, p, who.colleague, map[string]any{"kind": "modify_fiche", "codeRome": "F1703", "title": "Nouveau libellé",
		"justification": "Libellé d'usage.", "operations": []map[string]any{{"op": "update_appellation", "codeOgr": "11366",
			"libelle": "Coffreur-bancheur / Coffreuse-bancheuse en béton armé", "libelleCourt": "Coffreur-bancheur en béton armé"}}})
	for _, r := range []requestView{removal, rename} {
		r = waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 30*time.Second)
		act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)
		act(t, p, who.moder, r.ID, "decision", map[string]any{"decisions": []map[string]any{
			{"operationId": r.Operations[0].ID, "decision": "accepted", "rationale": "Conforme."}}}, http.StatusOK)
	}

	// Accepted, in release 1; consumers still read the version before, signed-in people
	// the next release.
	for _, r := range []requestView{removal, rename} {
		var accepted struct {
			Status  string `json:"status"`
			Release *int   `json:"release"`
		}
		deadline := time.Now().Add(30 * time.Second)
		for accepted.Status != "ACCEPTED" && time.Now().Before(deadline) {
			callJSON(t, http.MethodGet, p.Intake+"/v1/requests/"+r.ID, who.partner, nil, http.StatusOK, &accepted)
			time.Sleep(100 * time.Millisecond)
		}
		if accepted.Status != "ACCEPTED" || accepted.Release == nil || *accepted.Release != 1 {
			t.Fatalf("request %s: status %s, release %v; want ACCEPTED in release 1", r.ID, accepted.Status, accepted.Release)
		}
	}
	if v := referentialVersion(t, p); v != before {
		t.Fatalf("the referential published version %d before the release (was %d)", v, before)
	}
	if _, _, body := call(t, http.MethodGet, p.Referential+"/v1/fiches/F1703", "", nil); !strings.Contains(string(body), `"11366"`) {
		t.Fatal("the current fiche lost 11366 before the release")
	}
	if status, _, _ := call(t, http.MethodGet, p.Referential+"/v1/fiches/F1703?version=next", "", nil); status != http.StatusUnauthorized {
		t.Errorf("anonymous ?version=next = %d, want 401", status)
	}
	status, _, body := call(t, http.MethodGet, p.Referential+"/v1/fiches/F1703?version=next", who.partner, nil)
	if status != http.StatusOK || strings.Contains(string(body), `"11366"`) {
		t.Errorf("the next release's F1703 (%d) still has 11366, or none: %.300s", status, body)
	}
	var next struct {
		Number     int `json:"number"`
		ChangeSets []struct {
			RequestID string `json:"requestId"`
			Status    string `json:"status"`
		} `json:"changeSets"`
	}
	callJSON(t, http.MethodGet, p.Referential+"/v1/releases/next", who.moder, nil, http.StatusOK, &next)
	if next.Number != 1 || len(next.ChangeSets) != 2 || next.ChangeSets[0].RequestID != removal.ID || next.ChangeSets[1].RequestID != rename.ID {
		t.Fatalf("the next release is %+v, want release 1 with both requests in order", next)
	}

	// The console shows the next release: the fiche as it will be, the requests waiting.
	b := newBrowser(t, p, 1280)
	b.signIn("partner-release", "Paule Partenaire", "partner", who.org)
	b.visit("/referentiel/fiches/F1703?version=next")
	b.wantStatus(http.StatusOK)
	b.waitText("telle que la release 1 la publiera")
	b.checkAxe("partenaire : fiche dans la prochaine release")
	b.screenshot("fiche-prochaine-release")

	// Only admins cut a release, here from the console; cutting it again starts no other
	// workflow.
	callJSON(t, http.MethodPost, p.Intake+"/v1/releases", who.moder, map[string]any{}, http.StatusForbidden, nil)
	b = newBrowser(t, p, 320)
	b.signIn("admin-release", "Agnès Admin", "admin", "")
	b.visit("/referentiel/releases")
	b.waitText("Prochaine release : release 1")
	b.checkAxe("admin : releases, la prochaine à publier (320 px)")
	b.screenshot("releases-a-publier")
	b.clickButton("Publier la release")
	b.waitText("La publication de la release a commencé")
	if path := b.path(); !strings.HasPrefix(path, "/referentiel/releases/1?") {
		t.Fatalf("after cutting the release the console shows %s", path)
	}
	workflowID := release.WorkflowID(1)
	switch status, _, body := call(t, http.MethodPost, p.Intake+"/v1/releases", admin, map[string]any{}); {
	case status == http.StatusAccepted && strings.Contains(string(body), `"`+workflowID+`"`):
	case status == http.StatusConflict && strings.Contains(string(body), "release_empty"):
	default:
		t.Errorf("cutting the release again = %d %s", status, body)
	}

	published := waitStatus(t, p, who.partner, removal.ID, "PUBLISHED", 60*time.Second)
	returned := waitStatus(t, p, who.partner, rename.ID, "IN_REVIEW", 60*time.Second)
	if published.PublishedVersion == nil || *published.PublishedVersion != before+1 {
		t.Errorf("the removal was published in %v, want version %d", published.PublishedVersion, before+1)
	}
	if !slices.ContainsFunc(returned.Findings, func(f struct {
		Code           string `json:"code"`
		OperationID    string `json:"operationId"`
		OtherRequestID string `json:"otherRequestId"`
	}) bool {
		return f.Code == "release_conflict" && f.OperationID == rename.Operations[0].ID
	}) {
		t.Errorf("the returned request's findings %+v have no release_conflict on its operation", returned.Findings)
	}
	if returned.Operations[0].Decision != nil {
		t.Error("the returned request kept its decision: the moderator must decide again")
	}
	for id, want := range map[string][]string{removal.ID: {"staged", "published"}, rename.ID: {"staged", "publication_conflict"}} {
		h := types(history(t, p, who.moder, id))
		for _, typ := range want {
			if count(h, typ) != 1 {
				t.Errorf("request %s: %d %q events in %v, want 1", id, count(h, typ), typ, h)
			}
		}
	}

	// One version for the release, with its notes naming the request; the workflow is done.
	waitServed(t, p, before+1)
	if v := referentialVersion(t, p); v != before+1 {
		t.Errorf("the referential is at version %d after the release, want %d", v, before+1)
	}
	var cut struct {
		Status  string `json:"status"`
		Version *int   `json:"version"`
		Notes   string `json:"notes"`
	}
	callJSON(t, http.MethodGet, p.Referential+"/v1/releases/1", "", nil, http.StatusOK, &cut)
	if cut.Status != "published" || cut.Version == nil || *cut.Version != before+1 ||
		!strings.Contains(cut.Notes, removal.ID) || !strings.Contains(cut.Notes, rename.ID) {
		t.Errorf("release 1 is %+v", cut)
	}
	if _, _, body := call(t, http.MethodGet, p.Referential+"/v1/fiches/F1703", "", nil); strings.Contains(string(body), `"11366"`) {
		t.Error("the published F1703 still has 11366")
	}
	b.visit("/referentiel/releases/1")
	b.waitText("Notes de la release")
	b.checkAxe("admin : release publiée (320 px)")
	b.screenshot("release-publiee")
	c, err := client.Dial(client.Options{HostPort: p.TemporalAddress, Namespace: p.namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.GetWorkflow(ctx, workflowID, "").Get(ctx, nil); err != nil {
		t.Errorf("the release workflow %s: %v", workflowID, err)
	}
}
