package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testConsoleAccessRequests: an expert without an account finds the access request form
// from the sign-in page, is told what to correct, then applies; they confirm their address
// from the link of the e-mail they receive (opening it confirms nothing: the button does);
// an admin finds the request among those to examine and asks a question, which the
// applicant answers from the link of another e-mail; the admin approves it with the
// organisation whose name the applicant wrote, preselected. At 1280 and 320 px, axe on
// every page.
func testConsoleAccessRequests(t *testing.T, p *platform) {
	admin := devToken(t, p, "admin-acces", "admin", "")
	for _, width := range []int{1280, 320} {
		suffix := fmt.Sprintf("%d-%d", width, time.Now().UnixNano()%1e9)
		org, orgName := "opco-acces-"+suffix, "OPCO Accès "+suffix
		callJSON(t, http.MethodPost, p.Intake+"/v1/organisations", admin,
			map[string]any{"id": org, "name": orgName, "kind": "opco", "domains": []string{"H"}}, http.StatusCreated, nil)
		name, email := "Léa Fontaine "+suffix, "lea-"+suffix+"@opco-acces.example"

		// The applicant.
		v := newBrowser(t, p, width)
		v.visit("/connexion")
		v.clickLink("Demander un accès")
		v.wantStatus(http.StatusOK)
		if v.path() != "/acces" {
			v.fatalf("the sign-in page's link leads to %s", v.path())
		}
		v.wantPageBasics()
		v.wantSmallHTML()
		v.checkAxe("visiteur : demander un accès")
		v.screenshot("acces-formulaire")
		v.fillByLabel("Nom", name)
		v.fillByLabel("Adresse électronique professionnelle", "lea.opco-acces.example")
		// The organisation's name as the applicant writes it: accents and case aside, the directory's.
		v.fillByLabel("Organisation", strings.ToLower(strings.ReplaceAll(orgName, "è", "e")))
		v.selectByLabel("Type d'organisation", "OPCO")
		v.fillByLabel("Fonction", "Chargée de mission emploi-formation")
		v.fillByLabel("Codes ROME", "M18")
		v.fillByLabel("Motivation", "Je suis les métiers de l'industrie pour nos adhérents.\nNous voulons proposer des appellations.")
		v.clickButton("Demander un accès")
		v.wantStatus(http.StatusUnprocessableEntity)
		v.waitText("Saisissez votre adresse électronique professionnelle")
		v.waitText("Code non reconnu : « M18 »")
		if n := v.count(`[aria-invalid="true"]`); n != 2 {
			v.errorf("%d fields are marked invalid, want the address and the codes ROME", n)
		}
		if got := eval[string](v, "read the name", `document.querySelector('input[name="name"]').value`); got != name {
			v.errorf("the name typed became %q", got)
		}
		v.wantPageBasics()
		v.checkAxe("visiteur : demande d'accès avec des erreurs (422)")
		v.screenshot("acces-erreurs")
		v.fillByLabel("Adresse électronique professionnelle", email)
		v.check("Industrie (H)", true)
		v.fillByLabel("Codes ROME", "M1805")
		v.clickButton("Demander un accès")
		v.wantStatus(http.StatusOK)
		if v.path() != "/acces/merci" {
			v.fatalf("after applying, the browser is on %s", v.path())
		}
		v.waitText("Vérifiez votre messagerie")
		v.wantPageBasics()
		v.checkAxe("visiteur : demande d'accès envoyée")
		v.screenshot("acces-merci")

		// The e-mail's link opens a page; its button confirms the address.
		verify := accessLink(t, p, email, "verifier")
		v.visit(verify)
		v.wantStatus(http.StatusOK)
		v.wantButton("Confirmer mon adresse")
		v.wantPageBasics()
		v.wantSmallHTML()
		v.checkAxe("visiteur : confirmer son adresse")
		v.screenshot("acces-verifier")
		v.clickButton("Confirmer mon adresse")
		v.wantStatus(http.StatusOK)
		v.waitText("Votre adresse est confirmée")
		v.wantPageBasics()
		v.checkAxe("visiteur : adresse confirmée")
		v.screenshot("acces-adresse-confirmee")
		// The same link again: said kindly.
		v.visit(verify)
		v.clickButton("Confirmer mon adresse")
		v.wantStatus(http.StatusOK)
		v.waitText("confirmée")
		v.checkAxe("visiteur : adresse confirmée à nouveau")

		// An admin examines it and asks a question.
		a := newBrowser(t, p, width)
		a.signIn("admin-acces", "Agnès Admin", "admin", "")
		a.visit("/administration")
		a.clickLink("Examiner les demandes d'accès")
		a.wantStatus(http.StatusOK)
		eventuallyOnPage(a, a.path(), name)
		a.wantPageBasics()
		a.wantSmallHTML()
		a.checkAxe("admin : demandes d'accès")
		a.screenshot("admin-acces")
		a.clickLink(name)
		a.wantStatus(http.StatusOK)
		requestPage := a.path()
		if !strings.HasPrefix(requestPage, "/administration/acces/acc_") {
			a.fatalf("the request's link leads to %s", requestPage)
		}
		a.waitText(email)
		a.waitText("H – Industrie")
		a.wantButton("Approuver")
		a.wantButton("Refuser la demande")
		if got := eval[string](a, "read the organisation chosen", `document.querySelector('select[name="org"]').value`); got != org {
			a.errorf("the organisation preselected is %q, want %q", got, org)
		}
		a.wantPageBasics()
		a.wantSmallHTML()
		a.checkAxe("admin : une demande d'accès")
		a.screenshot("admin-acces-demande")
		a.clickButton("Poser la question")
		a.wantStatus(http.StatusUnprocessableEntity)
		a.waitText("Ce champ est obligatoire.")
		a.checkAxe("admin : question vide (422)")
		question := "Quelles branches votre OPCO représente-t-il ? (" + suffix + ")"
		a.fillByLabel("Question", question)
		a.clickButton("Poser la question")
		a.wantStatus(http.StatusOK)
		a.waitText("Votre question est envoyée par e-mail au demandeur")
		eventuallyOnPage(a, a.path(), question)
		a.checkAxe("admin : question posée")

		// The applicant answers from the link of the question's e-mail.
		v.visit(accessLink(t, p, email, "repondre"))
		v.wantStatus(http.StatusOK)
		v.waitText(question)
		v.wantField("Réponse")
		v.wantPageBasics()
		v.wantSmallHTML()
		v.checkAxe("visiteur : répondre à l'équipe ROME")
		v.screenshot("acces-repondre")
		answer := "La métallurgie et la plasturgie (" + suffix + ")."
		v.fillByLabel("Réponse", answer)
		v.clickButton("Répondre")
		v.wantStatus(http.StatusOK)
		v.waitText("Votre réponse est envoyée à l'équipe ROME")
		eventuallyOnPage(v, v.path(), answer)
		v.checkAxe("visiteur : réponse envoyée")
		v.screenshot("acces-reponse-envoyee")

		// The admin sees the answer and approves.
		eventuallyOnPage(a, requestPage, answer)
		a.selectByLabel("Rôle", "Partenaire")
		a.clickButton("Approuver")
		a.wantStatus(http.StatusOK)
		a.waitText("La demande est approuvée")
		eventuallyOnPage(a, a.path(), "Approuvée par admin-acces")
		a.waitText(orgName)
		a.wantPageBasics()
		a.checkAxe("admin : demande d'accès approuvée")
		a.screenshot("admin-acces-approuvee")
	}
}

// accessLinkPattern finds the console's page in the link of an access request's e-mail.
var accessLinkPattern = regexp.MustCompile(`/acces/(acc_[0-9a-f]{24})/(verifier|repondre)\?jeton=([^\s"<>&]+)`)

// accessLink is the console path of the latest e-mail to addr that links to page
// (verifier, repondre), waited for.
func accessLink(t *testing.T, p *platform, addr, page string) string {
	t.Helper()
	var link string
	eventually(t, 30*time.Second, "no e-mail to "+addr+" links to /acces/…/"+page, func() bool {
		for _, m := range mailsTo(t, p, addr) {
			for _, match := range accessLinkPattern.FindAllStringSubmatch(m.Body, -1) {
				if match[2] == page {
					token, err := url.QueryUnescape(match[3])
					if err != nil {
						t.Fatalf("the link's token %q: %v", match[3], err)
					}
					link = "/acces/" + match[1] + "/" + page + "?" + url.Values{"jeton": {token}}.Encode()
				}
			}
		}
		return link != ""
	})
	return link
}

// eventuallyOnPage reloads path until its text holds want (the workflows record their
// state in the intake's projection a moment after they change it).
func eventuallyOnPage(b *browser, path, want string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.visit(path)
		if strings.Contains(b.pageText(), want) {
			return
		}
		if time.Now().After(deadline) {
			b.fatalf("after 30 s, %s does not show %q", path, want)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
