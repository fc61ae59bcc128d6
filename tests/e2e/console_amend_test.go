package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// testConsoleAmendment: a partner's request taken by a moderator (over the API); the
// partner amends its operations in the browser at 320 px (the appellation's label), an
// empty label first coming back in place, each state of the page under axe-core; the
// request's page then shows the new label, and the operation kept its id.
func testConsoleAmendment(t *testing.T, p *platform) {
	who := cast(t, p, "console-amend")
	before, after := "Formateur / Formatrice en amendement", "Formatrice / Formateur aux amendements"
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "K2111", "title": "Amendement console", "justification": "Essai des amendements.",
		"operations": []map[string]any{{"op": "add_appellation", "libelle": before}},
	})
	r = waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", statusWait)
	opID := r.Operations[0].ID
	act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)

	b := newBrowser(t, p, 320)
	b.signIn("partner-console-amend", "Amélie Martin", "partner", who.org)
	b.visit("/demandes/" + r.ID)
	b.waitRequestStatus("En instruction")
	b.clickLink("Modifier les opérations")
	b.wantStatus(http.StatusOK)
	b.wantPageBasics()
	if title := b.title(); !strings.HasPrefix(title, "Modifier les opérations de « Amendement console »") {
		t.Errorf("title %q", title)
	}
	b.checkAxe("partenaire : modifier les opérations (320 px)")
	b.screenshot("modifier-les-operations")

	// An empty label: the error next to the field, nothing sent.
	b.fillByLabel("Libellé de l'appellation", "")
	b.clickButton("Enregistrer les opérations")
	b.waitText("avant d'enregistrer les opérations")
	if b.text("#ops-0-libelle-error") == "" {
		t.Fatalf("no error next to the emptied label")
	}
	b.checkAxe("partenaire : modifier les opérations, une erreur")

	b.fillByLabel("Libellé de l'appellation", after)
	b.clickButton("Prévisualiser")
	b.waitText("Aperçu à jour")
	b.checkAxe("partenaire : modifier les opérations, avec l'aperçu")
	b.clickButton("Enregistrer les opérations")
	b.waitText("Les opérations ont été modifiées")
	if id := b.requestID(); id != r.ID {
		t.Fatalf("back on request %s, want %s", id, r.ID)
	}
	b.waitText(after)
	b.checkAxe("partenaire : demande aux opérations modifiées")

	got := getRequest(t, p, who.partner, r.ID)
	if len(got.Operations) != 1 || got.Operations[0].ID != opID || got.Status != "IN_REVIEW" {
		t.Errorf("after the amendment: %s, operations %+v (the operation's id was %s)", got.Status, got.Operations, opID)
	}
	if strings.Contains(b.text("#operations"), before) {
		t.Errorf("the request's page still shows %q", before)
	}
}
