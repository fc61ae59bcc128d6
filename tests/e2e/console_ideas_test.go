package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testConsoleIdeas: a visitor without an account finds the idea form from the sign-in page,
// is told what to correct, then sends an idea; a moderator finds it among the new ideas and
// hands it to an organisation whose domains cover its fiche; a partner of that
// organisation sees it, with the way to file a request from it. The queue page shows the
// team's workload. At 1280 and 320 px, axe on every page.
func testConsoleIdeas(t *testing.T, p *platform) {
	admin := devToken(t, p, "admin-idees", "admin", "")
	for _, width := range []int{1280, 320} {
		suffix := fmt.Sprintf("%d-%d", width, time.Now().UnixNano()%1e9)
		org, orgName := "opco-idees-"+suffix, "OPCO Idées "+suffix
		callJSON(t, http.MethodPost, p.Intake+"/v1/organisations", admin,
			map[string]any{"id": org, "name": orgName, "kind": "opco", "domains": []string{"N"}}, http.StatusCreated, nil)
		text := "Les chauffeurs de navettes autonomes manquent (" + suffix + ")."

		// A visitor sends an idea.
		v := newBrowser(t, p, width)
		v.visit("/connexion")
		v.clickLink("Vous n'êtes pas expert ? Proposez une idée à l'équipe ROME")
		v.wantStatus(http.StatusOK)
		if v.path() != "/idees" {
			v.fatalf("the sign-in page's link leads to %s", v.path())
		}
		v.wantPageBasics()
		v.wantSmallHTML()
		v.checkAxe("visiteur : proposer une idée")
		v.screenshot("idee-formulaire")
		v.fillByLabel("Code ROME (facultatif)", "N41")
		v.fillByLabel("Adresse e-mail pour une réponse (facultatif)", "lecteur.example.org")
		v.clickButton("Envoyer l'idée")
		v.wantStatus(http.StatusUnprocessableEntity)
		v.waitText("Saisissez un code ROME")
		if n := v.count(`[aria-invalid="true"]`); n != 3 {
			v.errorf("%d fields are marked invalid, want the idea, the code ROME and the address", n)
		}
		v.wantPageBasics()
		v.checkAxe("visiteur : idée avec des erreurs (422)")
		v.screenshot("idee-erreurs")
		v.fillByLabel("Votre idée", text)
		v.fillByLabel("Code ROME (facultatif)", "N4101")
		v.fillByLabel("Adresse e-mail pour une réponse (facultatif)", "lecteur-"+suffix+"@example.org")
		v.clickButton("Envoyer l'idée")
		v.wantStatus(http.StatusOK)
		v.waitText("Merci, votre idée est envoyée")
		v.wantPageBasics()
		v.checkAxe("visiteur : idée envoyée")
		v.screenshot("idee-envoyee")

		// A moderator hands it to the organisation.
		m := newBrowser(t, p, width)
		m.signIn("mona-idees", "Mona Lefèvre", "moderator", "")
		m.visit("/idees/a-traiter")
		m.wantStatus(http.StatusOK)
		m.waitText(text)
		m.wantPageBasics()
		m.wantSmallHTML()
		m.checkAxe("modérateur : idées reçues")
		m.screenshot("idees-recues")
		m.clickLink(text)
		m.wantStatus(http.StatusOK)
		ideaPath := m.path()
		if !strings.HasPrefix(ideaPath, "/idees/idea_") {
			m.fatalf("the idea's link leads to %s", ideaPath)
		}
		m.waitText("lecteur-" + suffix + "@example.org")
		m.wantButton("Répondre")
		m.wantButton("Écarter")
		m.wantPageBasics()
		m.checkAxe("modérateur : une idée")
		m.screenshot("idee-moderateur")
		m.clickButton("Écarter")
		m.wantStatus(http.StatusUnprocessableEntity)
		m.waitText("Ce champ est obligatoire.")
		m.checkAxe("modérateur : écarter sans motif (422)")
		m.selectByLabel("Organisation", org)
		m.clickButton("Confier à une organisation")
		m.wantStatus(http.StatusOK)
		m.waitText("L'idée est confiée à l'organisation")
		m.waitText(orgName)
		m.wantPageBasics()
		m.checkAxe("modérateur : idée confiée")
		m.screenshot("idee-confiee")

		// The queue page shows the team's workload.
		m.visit("/moderation")
		m.wantStatus(http.StatusOK)
		m.waitText("Charge de l'équipe")
		m.waitText("Mona Lefèvre")
		m.checkAxe("modérateur : file et charge de l'équipe")
		m.screenshot("moderation-charge")

		// The contribution statistics: the ROME team's service levels, then each organisation.
		m.visit("/statistiques?periode=quarter")
		m.wantStatus(http.StatusOK)
		m.waitText("Niveaux de service de l'équipe ROME")
		m.wantPageBasics()
		m.checkAxe("modérateur : statistiques")
		m.screenshot("statistiques")

		// A partner of the organisation sees it, without the author's address.
		pa := newBrowser(t, p, width)
		pa.signIn("paul-idees-"+suffix, "Paul Durand", "partner", org)
		pa.visit("/idees/a-traiter")
		pa.waitText(text)
		pa.checkAxe("partenaire : idées confiées")
		pa.visit(ideaPath)
		pa.wantStatus(http.StatusOK)
		pa.waitText(text)
		pa.wantField("Demande déposée à partir de cette idée")
		if strings.Contains(pa.pageText(), "lecteur-"+suffix) {
			pa.errorf("a partner sees the author's address")
		}
		pa.wantPageBasics()
		pa.checkAxe("partenaire : idée confiée")
		pa.screenshot("idee-partenaire")
	}
}
