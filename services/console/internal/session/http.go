package session

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// CSRFField is the hidden form field, and CSRFHeader the header (htmx), that carry the
// session's CSRF token on every state-changing request.
const (
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

const contextKey = "console.session"

// Cookies sets and reads the session cookie.
type Cookies struct {
	// Secure marks the cookies Secure and gives them the __Host- prefix (everywhere but
	// dev mode, which serves plain HTTP on loopback).
	Secure bool
}

func (c Cookies) sessionName() string {
	if c.Secure {
		return "__Host-rome_session"
	}
	return "rome_session"
}

func (c Cookies) preName() string {
	if c.Secure {
		return "__Host-rome_presession"
	}
	return "rome_presession"
}

// Set gives the browser the session's cookie.
func (c Cookies) Set(w http.ResponseWriter, s Session) {
	c.set(w, c.sessionName(), s.ID, s.ExpiresAt)
}

// Clear removes the session cookie.
func (c Cookies) Clear(w http.ResponseWriter) {
	c.set(w, c.sessionName(), "", time.Unix(0, 0))
}

func (c Cookies) set(w http.ResponseWriter, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", Expires: expires, MaxAge: maxAge(expires),
		HttpOnly: true, Secure: c.Secure, SameSite: http.SameSiteLaxMode,
	})
}

func maxAge(expires time.Time) int {
	if s := int(time.Until(expires).Seconds()); s > 0 {
		return s
	}
	return -1
}

// SessionID is the session cookie's value, if any.
func (c Cookies) SessionID(r *http.Request) string {
	ck, err := r.Cookie(c.sessionName())
	if err != nil {
		return ""
	}
	return ck.Value
}

// PreSessionCSRF is the CSRF token of the forms shown before sign-in (a login CSRF would
// sign a victim in as the attacker): a random value in its own short-lived cookie, which
// the form repeats (double submit). It is created on first use.
func (c Cookies) PreSessionCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(c.preName()); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	v := randomToken()
	c.set(w, c.preName(), v, time.Now().Add(time.Hour))
	return v
}

// CheckPreSessionCSRF tells whether the request's form carries the pre-session token.
func (c Cookies) CheckPreSessionCSRF(r *http.Request) bool {
	ck, err := r.Cookie(c.preName())
	return err == nil && len(ck.Value) >= 32 && equal(ck.Value, r.PostFormValue(CSRFField))
}

// Put stores the session in the request's context.
func Put(c *gin.Context, s Session) { c.Set(contextKey, s) }

// From returns the request's session, if the person is signed in.
func From(c *gin.Context) (Session, bool) {
	v, ok := c.Get(contextKey)
	if !ok {
		return Session{}, false
	}
	s, ok := v.(Session)
	return s, ok
}

// ErrCSRF: a state-changing request without the session's CSRF token.
var ErrCSRF = errors.New("missing or wrong CSRF token")

// CheckCSRF verifies that a state-changing request carries the session's token, in the
// form or (htmx) in the header.
func CheckCSRF(c *gin.Context, s Session) error {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	got := c.GetHeader(CSRFHeader)
	if got == "" {
		got = c.PostForm(CSRFField)
	}
	if !equal(got, s.CSRF) {
		return ErrCSRF
	}
	return nil
}

func equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
