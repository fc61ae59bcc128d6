package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/tools/devstack"
)

// A Temporal node killed while requests are in flight costs them nothing: the services reach
// the other node through the proxy, which takes over the dead one's shards and task queues,
// and the node rejoins when restarted.
func testTemporalNodeKilled(t *testing.T, p *platform) {
	if p.stack.Options.Temporal != devstack.TemporalCluster {
		t.Skip("the dev server is a single process: run the suite with ROME_TEMPORAL=cluster (make test-e2e-cluster)")
	}
	who := cast(t, p, "nodekill")
	before := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "I1304", "title": "Transition numérique", "justification": "Maintenance prédictive.",
		"operations": []map[string]any{{"op": "set_tags", "transitionNumerique": true}},
	})
	waitStatus(t, p, who.partner, before.ID, "AWAITING_TRIAGE", 60*time.Second)

	if err := p.stack.Kill("temporal-1"); err != nil {
		t.Fatal(err)
	}
	// Submitted, taken and decided while the node is down.
	during := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "E1101", "title": "Emploi cadre", "justification": "Responsabilités éditoriales.",
		"operations": []map[string]any{{"op": "set_tags", "emploiCadre": true}},
	})
	for _, r := range []requestView{before, during} {
		waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 90*time.Second)
		act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)
	}
	act(t, p, who.moder, before.ID, "decision", map[string]any{"decisions": []map[string]any{
		{"operationId": before.Operations[0].ID, "decision": "accepted", "rationale": "OK"}}}, http.StatusOK)
	waitStatus(t, p, who.partner, before.ID, "PUBLISHED", 90*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := p.stack.Restart(ctx, "temporal-1"); err != nil {
		t.Fatal(err)
	}
	act(t, p, who.moder, during.ID, "decision", map[string]any{"decisions": []map[string]any{
		{"operationId": during.Operations[0].ID, "decision": "accepted", "rationale": "OK"}}}, http.StatusOK)
	waitStatus(t, p, who.partner, during.ID, "PUBLISHED", 90*time.Second)
	for _, r := range []requestView{before, during} {
		h := types(history(t, p, who.partner, r.ID))
		for _, typ := range []string{"submitted", "checks_completed", "assigned", "decided", "published"} {
			if count(h, typ) != 1 {
				t.Errorf("request %s: history %v: %q not exactly once", r.ID, h, typ)
			}
		}
	}
}
