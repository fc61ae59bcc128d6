package ui

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
)

// --- A console wired to fake services ----------------------------------------------------

// pagesUI is the shared test console (uitest_test.go) in front of fake referential and
// notifications services; the intake is down.
type pagesUI struct{ *testUI }

func newPagesUI(t *testing.T, referential, notifications http.Handler) *pagesUI {
	t.Helper()
	return &pagesUI{newTestUI(t, nil, referential, notifications)}
}

// as signs in a person of that role (and organisation, for a partner).
func (u *pagesUI) as(role auth.Role, sub, org string) *testBrowser {
	return u.signIn(auth.Principal{Subject: sub, Name: strings.ToUpper(sub[:1]) + sub[1:], Role: role, Org: org})
}

// --- Checks of the pages' HTML -----------------------------------------------------------

const maxPageBytes = 60 << 10

var (
	headingTag = regexp.MustCompile(`<h([1-6])[\s>]`)
	tableTag   = regexp.MustCompile(`(?s)<table>(.*?)</table>`)
	thTag      = regexp.MustCompile(`<th(\s[^>]*)?>`)
	idAttr     = regexp.MustCompile(`\sid="([^"]+)"`)
	labelFor   = regexp.MustCompile(`<label[^>]*\sfor="([^"]+)"`)
	fieldTag   = regexp.MustCompile(`<(input|select|textarea)\s[^>]*>`)
)

// checkPage checks what every page must be (console.md): the title, one h1, headings in
// order, tables with a caption and scoped headers, labelled fields, unique ids, at most
// 60 KB, and no inline script or style.
func checkPage(t *testing.T, w *httptest.ResponseRecorder, status int, title string) string {
	t.Helper()
	body := w.Body.String()
	if w.Code != status {
		t.Fatalf("status %d, want %d; page:\n%s", w.Code, status, excerpt(body))
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q", ct)
	}
	if want := "<title>" + htmlEscape(title) + " – Plateforme du ROME</title>"; !strings.Contains(body, want) {
		t.Errorf("title: want %s in\n%s", want, excerpt(body))
	}
	if len(body) > maxPageBytes {
		t.Errorf("page is %d bytes, more than %d", len(body), maxPageBytes)
	}
	levels := headingTag.FindAllStringSubmatch(body, -1)
	h1 := 0
	prev := 0
	for _, m := range levels {
		l := int(m[1][0] - '0')
		if l == 1 {
			h1++
		}
		if prev == 0 && l != 1 {
			t.Errorf("the first heading is h%d, want h1", l)
		}
		if prev > 0 && l > prev+1 {
			t.Errorf("heading h%d after h%d skips a level", l, prev)
		}
		prev = l
	}
	if h1 != 1 {
		t.Errorf("%d h1, want 1", h1)
	}
	for _, m := range tableTag.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], "<caption") {
			t.Errorf("a table has no caption: %s", excerpt(m[1]))
		}
		for _, th := range thTag.FindAllStringSubmatch(m[1], -1) {
			if !strings.Contains(th[1], "scope=") {
				t.Errorf("a th has no scope: %s", th[0])
			}
		}
	}
	ids := map[string]int{}
	for _, m := range idAttr.FindAllStringSubmatch(body, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	labelled := map[string]bool{}
	for _, m := range labelFor.FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
	}
	for _, f := range fieldTag.FindAllString(body, -1) {
		if strings.Contains(f, `type="hidden"`) {
			continue
		}
		id := idAttr.FindStringSubmatch(f)
		if id == nil || !labelled[id[1]] {
			t.Errorf("field without a label: %s", f)
		}
	}
	if strings.Contains(body, " style=") || regexp.MustCompile(`<script>`).MatchString(body) {
		t.Error("inline style or script (the CSP forbids them)")
	}
	return body
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func excerpt(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, excerpt(body))
		}
	}
}

func mustNotContain(t *testing.T, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("page has %q", n)
		}
	}
}

func location(t *testing.T, w *httptest.ResponseRecorder, want string) {
	t.Helper()
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want 303; page:\n%s", w.Code, excerpt(w.Body.String()))
	}
	if got := w.Header().Get("Location"); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
}
