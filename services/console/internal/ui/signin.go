package ui

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/services/console/internal/session"
	"github.com/plateforme-rome/rome/services/console/internal/signin"
)

// devForm is what the dev sign-in form holds.
type devForm struct{ Sub, Name, Role, Org string }

type signInData struct {
	OIDC, Dev bool
	Return    string
	CSRF      string // the pre-session token (no session yet)
	Form      devForm
	Errors    fieldErrors
	Error     string
	Roles     []auth.Role
	// AskAccess: the person is not in the directory; the refusal offers to apply.
	AskAccess bool
}

// signInRoles are the roles the dev form offers (console.md): people, not services.
var signInRoles = []auth.Role{auth.RolePartner, auth.RoleModerator, auth.RoleAdmin}

func (h *handlers) signInPage(c *gin.Context) {
	if _, ok := session.From(c); ok {
		c.Redirect(http.StatusSeeOther, localPath(c.Query("retour")))
		return
	}
	h.renderSignIn(c, http.StatusOK, devForm{Role: string(auth.RolePartner)}, nil, "")
}

func (h *handlers) renderSignIn(c *gin.Context, status int, f devForm, errs fieldErrors, problem string) {
	h.render(c, status, "signin", view{Title: "Connexion", Data: signInData{
		OIDC: h.OIDC != nil, Dev: h.DevSignIn, Return: localPath(c.Request.FormValue("retour")),
		CSRF: h.Cookies.PreSessionCSRF(c.Writer, c.Request), Form: f, Errors: errs, Error: problem, Roles: signInRoles,
		AskAccess: problem == refusals["unknown_person"],
	}})
}

// devSignIn signs in with a token from the intake's dev issuer (dev mode only).
func (h *handlers) devSignIn(c *gin.Context) {
	if !h.DevSignIn {
		h.notFound(c)
		return
	}
	f := devForm{
		Sub: strings.TrimSpace(c.PostForm("sub")), Name: strings.TrimSpace(c.PostForm("name")),
		Role: c.PostForm("role"), Org: strings.TrimSpace(c.PostForm("org")),
	}
	if !h.Cookies.CheckPreSessionCSRF(c.Request) {
		h.renderSignIn(c, http.StatusForbidden, f, nil, "Ce formulaire a expiré : envoyez-le à nouveau.")
		return
	}
	errs := fieldErrors{}
	if f.Sub == "" {
		errs.add("sub", "Saisissez un identifiant.")
	}
	if f.Name == "" {
		f.Name = f.Sub
	}
	switch auth.Role(f.Role) {
	case auth.RolePartner:
		if f.Org == "" {
			errs.add("org", "Un partenaire appartient à une organisation : saisissez-la.")
		}
	case auth.RoleModerator, auth.RoleAdmin:
	default:
		errs.add("role", "Choisissez partner, moderator ou admin.")
	}
	if errs.Any() {
		h.renderSignIn(c, http.StatusUnprocessableEntity, f, errs, "")
		return
	}
	ctx := c.Request.Context()
	token, expiresAt, err := h.Backend.Intake.DevToken(ctx, backend.DevTokenRequest{Sub: f.Sub, Name: f.Name, Role: f.Role, Org: f.Org})
	if e, ok := backend.AsError(err); ok && e.Status == http.StatusUnprocessableEntity {
		h.renderSignIn(c, http.StatusUnprocessableEntity, f, fromProblem(e, func(field string) string { return field }), "")
		return
	}
	if e, ok := backend.AsError(err); ok && e.Status == http.StatusForbidden {
		h.renderSignIn(c, http.StatusForbidden, f, nil, cmp.Or(refusals[e.Code], refusals[""]))
		return
	}
	if err != nil {
		slog.WarnContext(ctx, "dev token not issued", "error", err)
		h.renderSignIn(c, http.StatusServiceUnavailable, f, nil, "Le service d'identité de développement (intake) ne répond pas. Réessayez dans un instant.")
		return
	}
	h.startSession(c, token, "", expiresAt, c.PostForm("retour"))
}

// refusals say why a sign-in is refused, by the problem's code ("" for any other reason).
var refusals = map[string]string{
	"":                      "Votre compte n'a pas de rôle sur la plateforme, ou son jeton n'est pas valide. Contactez l'équipe ROME.",
	"unknown_person":        "Votre compte n'est pas enregistré sur la plateforme : demandez un accès à l'équipe ROME.",
	"person_deactivated":    "Votre compte, ou celui de votre organisation, a été désactivé. Contactez l'équipe ROME.",
	"claims_mismatch":       "Votre rôle ou votre organisation ne correspond pas à l'annuaire de la plateforme. Reconnectez-vous, ou contactez l'équipe ROME.",
	"directory_unavailable": "L'annuaire de la plateforme ne répond pas. Réessayez dans un instant.",
}

// startSession verifies the token as the services will, then opens the session.
func (h *handlers) startSession(c *gin.Context, token, refresh string, expiry time.Time, returnTo string) {
	ctx := c.Request.Context()
	p, err := h.Verifier.Verify(ctx, token)
	if err != nil {
		slog.WarnContext(ctx, "sign-in token refused", "error", err)
		status, message := http.StatusForbidden, refusals[""]
		var prob *httpx.Problem
		if errors.As(err, &prob) {
			status, message = max(prob.Status, http.StatusForbidden), cmp.Or(refusals[prob.Code], message)
		}
		h.renderSignIn(c, status, devForm{}, nil, message)
		return
	}
	if p.Role == auth.RoleService {
		h.renderSignIn(c, http.StatusForbidden, devForm{}, nil, "Un compte de service ne se connecte pas à la console.")
		return
	}
	s, err := h.Sessions.Create(ctx, p, token, refresh, expiry, h.SessionMaxAge)
	if err != nil {
		slog.ErrorContext(ctx, "session not created", "error", err)
		h.errorPage(c, http.StatusServiceUnavailable, pageError{Detail: "La session n'a pas pu être ouverte."})
		return
	}
	slog.InfoContext(ctx, "signed in", "sub", p.Subject, "role", p.Role, "org", p.Org)
	h.Cookies.Set(c.Writer, s)
	c.Redirect(http.StatusSeeOther, localPath(returnTo))
}

// oidcCookie keeps the sign-in in progress (state, nonce, PKCE verifier) for ten minutes
// (maxAge -1 deletes it). Like the session's, it is Secure and __Host- prefixed (which
// requires Path=/) outside dev mode.
func (h *handlers) oidcCookie(value string, maxAge int) *http.Cookie {
	name := "rome_oidc"
	if h.Cookies.Secure {
		name = "__Host-rome_oidc"
	}
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.Cookies.Secure, SameSite: http.SameSiteLaxMode}
}

func (h *handlers) oidcStart(c *gin.Context) {
	if h.OIDC == nil {
		h.notFound(c)
		return
	}
	authURL, pending := h.OIDC.Start(localPath(c.Query("retour")))
	http.SetCookie(c.Writer, h.oidcCookie(pending.Encode(), int(signin.PendingTTL/time.Second)))
	c.Redirect(http.StatusFound, authURL)
}

func (h *handlers) oidcCallback(c *gin.Context) {
	if h.OIDC == nil {
		h.notFound(c)
		return
	}
	ck, err := c.Request.Cookie(h.oidcCookie("", 0).Name)
	http.SetCookie(c.Writer, h.oidcCookie("", -1))
	if err != nil {
		h.renderSignIn(c, http.StatusBadRequest, devForm{}, nil, "La connexion a expiré ou a été ouverte dans un autre navigateur : recommencez.")
		return
	}
	pending, err := signin.DecodePending(ck.Value)
	if err != nil {
		h.renderSignIn(c, http.StatusBadRequest, devForm{}, nil, "La connexion a expiré : recommencez.")
		return
	}
	tokens, err := h.OIDC.Finish(c.Request.Context(), pending, c.Request.URL.Query())
	var perr *signin.ProviderError
	switch {
	case errors.As(err, &perr):
		h.renderSignIn(c, http.StatusForbidden, devForm{}, nil, providerRefusal(perr.Code))
		return
	case err != nil:
		slog.WarnContext(c.Request.Context(), "OpenID Connect sign-in failed", "error", err)
		h.renderSignIn(c, http.StatusBadRequest, devForm{}, nil, "La connexion n'a pas abouti : recommencez.")
		return
	}
	h.startSession(c, tokens.Bearer, tokens.Refresh, tokens.Expiry, pending.ReturnTo)
}

// signOut ends the session (the CSRF check ran in loadSession), and the provider's too
// when it has an end-session endpoint.
func (h *handlers) signOut(c *gin.Context) {
	if s, ok := session.From(c); ok {
		if err := h.Sessions.Delete(c.Request.Context(), s.ID); err != nil {
			slog.ErrorContext(c.Request.Context(), "session not deleted", "error", err)
		}
	}
	h.Cookies.Clear(c.Writer)
	if h.OIDC != nil {
		if out := h.OIDC.SignOutURL(h.PublicURL + "/connexion?message=deconnecte"); out != "" {
			c.Redirect(http.StatusSeeOther, out)
			return
		}
	}
	c.Redirect(http.StatusSeeOther, "/connexion?message=deconnecte")
}

// providerRefusal says in French why the identity provider refused the sign-in
// (OAuth 2.0 and OpenID Connect error codes).
func providerRefusal(code string) string {
	switch code {
	case "access_denied":
		return "La connexion a été refusée ou annulée auprès du fournisseur d'identité."
	case "login_required", "interaction_required", "consent_required":
		return "Le fournisseur d'identité demande de vous connecter à nouveau : recommencez."
	case "invalid_grant":
		return "La connexion a expiré avant d'aboutir : recommencez."
	case "temporarily_unavailable", "server_error":
		return "Le fournisseur d'identité est momentanément indisponible : réessayez dans un instant."
	}
	return "Le fournisseur d'identité a refusé la connexion (" + code + "). Si cela persiste, contactez l'équipe ROME."
}
