package api

// Release trains: the releases (public once published, all of them for signed-in callers),
// the next one (signed in), the steps a release workflow takes (role service: freeze,
// validate, publish) and the next release as the reads serve it (?version=next).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
)

// releaseSteps are the custom methods of a numbered release, POST /v1/releases/{n}:{step}.
// Gin matches a parameter up to the end of its path segment: one route serves them.
var releaseSteps = map[string]func(*app.Service, context.Context, int) (*app.Release, error){
	"validate": (*app.Service).ValidateRelease,
	"publish":  (*app.Service).PublishRelease,
}

func (h *handlers) releaseRoutes(v1, reads *gin.RouterGroup, d Deps) {
	reads.GET("/releases", h.releases)
	reads.GET("/releases/:n", h.release)
	reads.GET("/releases/:n/notes", h.releaseNotes)
	reads.GET("/releases/:n/delta", h.releaseDelta)
	v1.GET("/releases/next", d.Authenticate, h.nextRelease)
	v1.POST(`/releases/next\:freeze`, d.Authenticate, d.RequireService, h.freezeRelease)
	v1.POST("/releases/:step", d.Authenticate, d.RequireService, h.releaseStep)
}

// releaseProblem maps the release use cases' errors to problems.
func releaseProblem(err error) error {
	var step *app.ReleaseStepError
	switch {
	case errors.Is(err, app.ErrReleaseTrainsOff):
		return httpx.Conflict("release_trains_off", err.Error())
	case errors.Is(err, app.ErrReleaseEmpty):
		return httpx.Conflict("release_empty", err.Error())
	case errors.Is(err, app.ErrReleaseNotFound):
		return httpx.NotFound("release_not_found", err.Error())
	case errors.As(err, &step):
		return httpx.Conflict("release_not_frozen", err.Error()).With("currentStatus", step.Status)
	}
	return changeSetProblem(err)
}

// renderRelease answers a release, or the problem err is.
func renderRelease(c *gin.Context, r *app.Release, err error) {
	if err != nil {
		c.Error(releaseProblem(err))
		return
	}
	c.JSON(http.StatusOK, r)
}

// releaseNumber reads the release number n of the path; anything else names no release.
func releaseNumber(c *gin.Context, param string) (int, bool) {
	n, err := strconv.Atoi(param)
	if err != nil || n < 1 {
		c.Error(httpx.NotFound("release_not_found", fmt.Sprintf("%q is not a release number", param)))
		return 0, false
	}
	return n, true
}

// releases serves GET /v1/releases, newest first: the published ones, and for signed-in
// callers those still open or frozen.
func (h *handlers) releases(c *gin.Context) {
	rs, err := h.svc.Releases(c.Request.Context(), h.signedIn(c.Request))
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": rs})
}

// release serves GET /v1/releases/{n}; one not published yet is for signed-in callers.
func (h *handlers) release(c *gin.Context) {
	if n, ok := releaseNumber(c, c.Param("n")); ok {
		r, err := h.svc.Release(c.Request.Context(), n, h.signedIn(c.Request))
		renderRelease(c, r, err)
	}
}

// published reads release n of the path, once it is published.
func (h *handlers) published(c *gin.Context) (*app.Release, bool) {
	n, ok := releaseNumber(c, c.Param("n"))
	if !ok {
		return nil, false
	}
	r, err := h.svc.Release(c.Request.Context(), n, false)
	if err != nil {
		c.Error(releaseProblem(err))
		return nil, false
	}
	return r, true
}

// releaseNotes serves GET /v1/releases/{n}/notes: the French notes, in Markdown.
func (h *handlers) releaseNotes(c *gin.Context) {
	if r, ok := h.published(c); ok {
		c.Data(http.StatusOK, "text/markdown; charset=utf-8", []byte(r.Notes))
	}
}

// releaseDelta serves GET /v1/releases/{n}/delta: the delta of the version it published.
func (h *handlers) releaseDelta(c *gin.Context) {
	r, ok := h.published(c)
	if !ok {
		return
	}
	if r.Version == nil {
		c.Error(httpx.NotFound("version_not_found", fmt.Sprintf("release %d published no version: none of its change sets applied", r.Number)))
		return
	}
	h.serveDelta(c, *r.Version)
}

// nextRelease serves GET /v1/releases/next: the release that accepts change sets.
func (h *handlers) nextRelease(c *gin.Context) {
	r, err := h.svc.NextRelease(c.Request.Context())
	renderRelease(c, r, err)
}

// freezeRelease serves POST /v1/releases/next:freeze.
func (h *handlers) freezeRelease(c *gin.Context) {
	r, err := h.svc.FreezeRelease(c.Request.Context())
	renderRelease(c, r, err)
}

// releaseStep serves POST /v1/releases/{n}:validate and POST /v1/releases/{n}:publish.
func (h *handlers) releaseStep(c *gin.Context) {
	number, name, _ := strings.Cut(c.Param("step"), ":")
	step, known := releaseSteps[name]
	if !known {
		c.Error(httpx.NotFound("route_not_found", "No route matches "+c.Request.Method+" "+c.Request.URL.Path+"."))
		return
	}
	if n, ok := releaseNumber(c, number); ok {
		r, err := step(h.svc, c.Request.Context(), n)
		renderRelease(c, r, err)
	}
}

// next resolves ?version=next: signed-in callers only, under release trains.
func (h *handlers) next(c *gin.Context) (*app.State, bool) {
	if !h.signedIn(c.Request) {
		c.Header("WWW-Authenticate", "Bearer")
		c.Error(httpx.Unauthorized("sign_in_required", "The next release is for signed-in callers: send a bearer token of the platform."))
		return nil, false
	}
	st, err := h.svc.Next(c.Request.Context())
	if err != nil {
		c.Error(releaseProblem(err))
		return nil, false
	}
	return st, true
}
