package ui

// The parameters of a fiche's pages: the code ROME of the route and the versions asked.

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/plateforme-rome/rome/workflows/request"
)

// ficheCode reads the :code of the route: a code ROME, or a 404 page. A code typed in
// lower case is sent to its canonical address.
func (h *handlers) ficheCode(c *gin.Context) (string, bool) {
	code := c.Param("code")
	if up := strings.ToUpper(code); up != code && request.CodeRomePattern.MatchString(up) {
		u := *c.Request.URL
		u.Path = strings.Replace(u.Path, "/"+code, "/"+up, 1)
		c.Redirect(http.StatusMovedPermanently, u.RequestURI())
		return "", false
	}
	if !request.CodeRomePattern.MatchString(code) {
		h.errorPage(c, http.StatusNotFound, pageError{Detail: "« " + truncate(20, code) + " » n'est pas un code ROME : une lettre de A à N suivie de quatre chiffres, par exemple M1805.",
			Back: "/referentiel", BackLabel: "Rechercher dans le ROME"})
		return "", false
	}
	return code, true
}

// versionParam reads a version number of the query: 0 when absent, false (after a 400
// page) when it is not a positive number.
func (h *handlers) versionParam(c *gin.Context, name string) (int, bool) {
	s := strings.TrimSpace(c.Query(name))
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Une version du référentiel est un nombre entier positif, par exemple 61."})
		return 0, false
	}
	return n, true
}
