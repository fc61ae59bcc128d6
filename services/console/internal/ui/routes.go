// Package ui is the console's web interface: server-rendered French pages that work
// without JavaScript (htmx only enhances them), one small file per page or action, every
// route listed here.
package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
)

// Router builds the console's HTTP handler.
func Router(d Deps) http.Handler {
	r := httpx.NewEngine("console")
	httpx.Health(r, d.Checks...)
	h := newHandlers(d)
	d.Assets.Register(r)
	r.Use(securityHeaders)
	r.NoRoute(h.loadSession, func(c *gin.Context) { h.notFound(c) })
	r.NoMethod(h.loadSession, func(c *gin.Context) { h.errorPage(c, http.StatusMethodNotAllowed, pageError{}) })

	r.GET("/favicon.ico", func(c *gin.Context) {
		c.Redirect(http.StatusMovedPermanently, d.Assets.URL("dsfr/favicon/favicon.ico"))
	})

	// Signing in and out.
	pub := r.Group("/", h.loadSession)
	pub.GET("/connexion", h.signInPage)
	pub.POST("/connexion/dev", h.devSignIn)
	pub.GET("/connexion/oidc", h.oidcStart)
	pub.GET("/connexion/retour", h.oidcCallback)
	pub.POST("/deconnexion", h.signOut)
	// Ideas: anyone may send one, signed in or not.
	pub.GET("/idees", h.ideaFormPage)
	pub.POST("/idees", h.submitIdea)
	pub.GET("/idees/merci", h.ideaThanks)
	// Access requests: a recognised expert applies, then follows the links of their e-mails
	// (the pages they open never act by themselves: their buttons do).
	pub.GET("/acces", h.accessFormPage)
	pub.POST("/acces", h.submitAccessRequest)
	pub.GET("/acces/merci", h.accessThanks)
	pub.GET("/acces/adresse-confirmee", h.accessVerified)
	pub.GET("/acces/:id/verifier", h.accessVerifyPage)
	pub.POST("/acces/:id/verifier", h.accessVerify)
	pub.GET("/acces/:id/repondre", h.accessAnswerPage)
	pub.POST("/acces/:id/repondre", h.accessAnswer)

	var (
		signedIn   = r.Group("/", h.loadSession, h.requireSignIn)
		contribute = h.requireRole(auth.RolePartner, auth.RoleModerator, auth.RoleAdmin)
		partner    = h.requireRole(auth.RolePartner)
		staff      = h.requireRole(auth.RoleModerator, auth.RoleAdmin)
		admin      = h.requireRole(auth.RoleAdmin)
	)
	signedIn.GET("/", h.dashboard)

	// Requests.
	signedIn.GET("/demandes", contribute, h.requestList)
	signedIn.GET("/demandes/nouvelle", partner, h.newRequest)
	signedIn.POST("/demandes/nouvelle", partner, h.newRequestPost)
	signedIn.POST("/demandes/nouvelle/apercu", partner, h.newRequestPreview)
	signedIn.GET("/demandes/:id", contribute, h.requestPage)
	signedIn.GET("/demandes/:id/etat", contribute, h.requestStatusFragment)
	signedIn.GET("/demandes/:id/operations", partner, h.amendOperations)
	signedIn.POST("/demandes/:id/operations", partner, h.amendOperationsPost)
	signedIn.POST("/demandes/:id/operations/apercu", partner, h.amendOperationsPreview)
	signedIn.POST("/demandes/:id/prise-en-charge", staff, h.requestAssign)
	signedIn.POST("/demandes/:id/questions", staff, h.requestAsk)
	signedIn.POST("/demandes/:id/questions/:questionId/reponse", partner, h.requestAnswer)
	signedIn.POST("/demandes/:id/messages", contribute, h.requestMessage)
	signedIn.POST("/demandes/:id/decision", staff, h.requestDecide)
	signedIn.POST("/demandes/:id/retrait", partner, h.requestWithdraw)
	signedIn.POST("/demandes/:id/suivi", contribute, h.requestFollow)

	// Moderation.
	signedIn.GET("/moderation", staff, h.moderationQueue)

	// Ideas received: the ROME team handles them; partners see those handed to them.
	signedIn.GET("/idees/a-traiter", contribute, h.ideaList)
	signedIn.GET("/statistiques", contribute, h.statsPage)
	signedIn.GET("/idees/:id", contribute, h.ideaPage)
	signedIn.POST("/idees/:id/ecarter", staff, h.ideaActionHandler(ideaDismiss))
	signedIn.POST("/idees/:id/reponse", staff, h.ideaActionHandler(ideaReply))
	signedIn.POST("/idees/:id/confier", staff, h.ideaActionHandler(ideaHandOver))
	signedIn.POST("/idees/:id/demande", partner, h.ideaActionHandler(ideaFile))

	// The referential.
	signedIn.GET("/referentiel", h.referentialSearch)
	signedIn.GET("/referentiel/fiches/:code", h.fichePage)
	signedIn.GET("/referentiel/fiches/:code/historique", h.ficheHistory)
	signedIn.GET("/referentiel/fiches/:code/comparaison", h.ficheCompare)
	signedIn.POST("/referentiel/fiches/:code/suivi", contribute, h.ficheFollow)
	signedIn.GET("/referentiel/recherche", h.pickerSearch) // the pickers' live results (htmx)
	signedIn.GET("/referentiel/releases", h.releasesPage)
	signedIn.GET("/referentiel/releases/:n", h.releasePage)
	signedIn.POST("/referentiel/releases", admin, h.releaseStart)

	// Notifications.
	signedIn.GET("/notifications", h.notificationsPage)
	signedIn.POST("/notifications/:id/lue", h.notificationRead)
	signedIn.POST("/notifications/preferences", h.notificationPreferences)
	signedIn.POST("/notifications/suivis/retrait", h.unfollow)

	// Administration: deliveries given up, access requests, and the directory of
	// organisations and people.
	signedIn.GET("/administration", admin, h.adminPage)
	signedIn.POST("/administration/envois/:id/relance", admin, h.adminRetry)
	signedIn.GET("/administration/organisations", admin, h.organisationList)
	signedIn.GET("/administration/organisations/nouvelle", admin, h.newOrganisation)
	signedIn.POST("/administration/organisations/nouvelle", admin, h.createOrganisation)
	signedIn.GET("/administration/organisations/:id", admin, h.organisationPage)
	signedIn.POST("/administration/organisations/:id", admin, h.updateOrganisation)
	signedIn.POST("/administration/organisations/:id/activation", admin, h.organisationActivation)
	signedIn.GET("/administration/acces", admin, h.accessRequestList)
	signedIn.GET("/administration/acces/:id", admin, h.accessRequestPage)
	signedIn.POST("/administration/acces/:id/approbation", admin, h.accessDecisionHandler(accessApprove))
	signedIn.POST("/administration/acces/:id/question", admin, h.accessDecisionHandler(accessAsk))
	signedIn.POST("/administration/acces/:id/refus", admin, h.accessDecisionHandler(accessReject))
	signedIn.GET("/administration/personnes", staff, h.peopleList)
	signedIn.GET("/administration/personnes/nouvelle", admin, h.newPerson)
	signedIn.POST("/administration/personnes/nouvelle", admin, h.createPerson)
	signedIn.GET("/administration/personnes/import", admin, h.importPage)
	signedIn.GET("/administration/personnes/:sub", admin, h.personPage)
	signedIn.POST("/administration/personnes/:sub", admin, h.updatePerson)
	signedIn.POST("/administration/personnes/:sub/activation", admin, h.personActivation)
	// The import's forms carry a file: their size is bounded before the session reads them.
	upload := r.Group("/", h.limitUpload(maxImportForm), h.loadSession, h.requireSignIn)
	upload.POST("/administration/personnes/import", admin, h.importCheck)
	upload.POST("/administration/personnes/import/confirmation", admin, h.importConfirm)
	return r
}

// securityHeaders: no third-party origin may load anything into the console's pages, and
// no other site may frame them.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}
