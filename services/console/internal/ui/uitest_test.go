package ui

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/console/internal/assets"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/services/console/internal/session"
)

// testUI is the console's router (built by Router, wrapped by nothing) in front of fake
// services: httptest servers answering the JSON the real ones do. Sessions live in a fresh
// SQLite database; the assets must have been built (services/console/web/build.sh).
type testUI struct {
	t        *testing.T
	Handler  http.Handler
	Sessions *session.Store
	Deps     Deps
}

// newTestUI starts the console in front of these services; a nil handler is a service that
// answers 503 to everything.
func newTestUI(t *testing.T, intake, referential, notifications http.Handler) *testUI {
	t.Helper()
	db := dbtest.Open(t, database.SQLite)
	if err := database.Migrate(context.Background(), db, session.Component, session.Migrations); err != nil {
		t.Fatal(err)
	}
	set, err := assets.Load()
	if err != nil {
		t.Fatalf("console assets (run services/console/web/build.sh): %v", err)
	}
	serve := func(h http.Handler) string {
		if h == nil {
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"type":"about:blank","title":"Service Unavailable","status":503,"code":"unavailable","detail":"down"}`))
			})
		}
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s.URL
	}
	store := session.NewStore(db, nil)
	d := Deps{
		Sessions: store,
		Backend: backend.New(backend.Config{IntakeURL: serve(intake), ReferentialURL: serve(referential),
			NotificationsURL: serve(notifications), Timeout: 5 * time.Second}),
		Assets: set, DevSignIn: true, SessionMaxAge: time.Hour,
	}
	return &testUI{t: t, Handler: Router(d), Sessions: store, Deps: d}
}

// testBrowser is a signed-in person's browser: it sends the session's cookie, and the CSRF
// token with every form.
type testBrowser struct {
	ui      *testUI
	Session session.Session
}

// signIn opens a session for p (as the sign-in would, with a fake token).
func (u *testUI) signIn(p auth.Principal) *testBrowser {
	u.t.Helper()
	if p.Name == "" {
		p.Name = p.Subject
	}
	s, err := u.Sessions.Create(context.Background(), p, "token-"+p.Subject, "", time.Now().Add(time.Hour), time.Hour)
	if err != nil {
		u.t.Fatal(err)
	}
	return &testBrowser{ui: u, Session: s}
}

// partner signs in a partner of organisation opco-2i.
func (u *testUI) partner() *testBrowser {
	return u.signIn(auth.Principal{Subject: "alice", Name: "Alice Martin", Role: auth.RolePartner, Org: "opco-2i"})
}

func (b *testBrowser) do(r *http.Request, header ...string) *httptest.ResponseRecorder {
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	r.AddCookie(&http.Cookie{Name: "rome_session", Value: b.Session.ID})
	w := httptest.NewRecorder()
	b.ui.Handler.ServeHTTP(w, r)
	return w
}

// get sends a GET; header is name, value, name, value…
func (b *testBrowser) get(path string, header ...string) *httptest.ResponseRecorder {
	return b.do(httptest.NewRequest(http.MethodGet, path, nil), header...)
}

// post sends a form with the session's CSRF token (unless the form has one).
func (b *testBrowser) post(path string, form url.Values, header ...string) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form[session.CSRFField]; !ok {
		form.Set(session.CSRFField, b.Session.CSRF)
	}
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(r, header...)
}

// postFile sends a multipart form with one file (and the session's CSRF token).
func (b *testBrowser) postFile(path, field, name string, content []byte) *httptest.ResponseRecorder {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField(session.CSRFField, b.Session.CSRF)
	fw, _ := mw.CreateFormFile(field, name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	r := httptest.NewRequest(http.MethodPost, path, &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(r)
}

// htmx is the headers of an htmx request targeting the element with that id.
func htmx(target string) []string {
	return []string{"HX-Request", "true", "HX-Target", target}
}

// assetsForTest loads the embedded assets (built by services/console/web/build.sh).
func assetsForTest() (*assets.Set, error) { return assets.Load() }
