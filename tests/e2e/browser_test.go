package e2e

// The console in a real browser: Debian's Chromium, headless, driven over the DevTools
// protocol by chromedp. Scenarios open a browser per role (newBrowser), find elements the
// way people and assistive technologies do, by their French accessible names (fillByLabel,
// clickButton, choose...), check every page with axe-core (checkAxe), and keep screenshots
// of what they saw (screenshot).
//
// Each test gets one Chromium process with a fresh profile; each browser of a test is its
// own browser context (an incognito-like profile): people's cookies never mix. Every action
// is bounded (actionTimeout); a failure shows the current URL, the HTTP status of the page,
// an excerpt of its text and the JavaScript errors it logged.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/plateforme-rome/rome/tools/devstack"
)

const (
	// actionTimeout bounds every browser action, waits included.
	actionTimeout = 20 * time.Second
	// browserStartTimeout bounds Chromium's start.
	browserStartTimeout = 60 * time.Second
	// viewportHeight is the window's height; screenshots take the full page anyway.
	viewportHeight = 900
	// titleSuffix ends every page's <title> (console.md).
	titleSuffix = "– Plateforme du ROME"
	// skipLinkName is the skip link every page starts with (console.md).
	skipLinkName = "Aller au contenu"
)

// axeTags are the rules the console must pass with no violation (console.md).
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// chromiumPath is CHROMIUM_PATH, or chromium on PATH (Debian's package).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROMIUM_PATH=%s: %v", p, err)
		}
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser tests need Chromium: apt-get install -y chromium (or set CHROMIUM_PATH)")
	}
	return p
}

// chromiums are the running browsers, one per test, each with its own profile directory.
var (
	chromiumsMu sync.Mutex
	chromiums   = map[*testing.T]context.Context{}
)

// chromiumFor starts the test's Chromium on first use and stops it when the test ends.
func chromiumFor(t *testing.T) context.Context {
	t.Helper()
	chromiumsMu.Lock()
	defer chromiumsMu.Unlock()
	if ctx, ok := chromiums[t]; ok {
		return ctx
	}
	path := chromiumPath(t)
	profile, err := os.MkdirTemp("", "rome-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	// The first context owns the browser: no timeout on it, or the timeout would stop it.
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf), chromedp.WithErrorf(func(f string, args ...any) {
		t.Logf("chromedp: "+f, args...)
	}))
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	stop := func() {
		cancel()
		allocCancel()
		_ = os.RemoveAll(profile)
	}
	select {
	case err := <-started:
		if err != nil {
			stop()
			t.Fatalf("start %s: %v", path, err)
		}
	case <-time.After(browserStartTimeout):
		stop()
		t.Fatalf("%s did not start within %s", path, browserStartTimeout)
	}
	chromiums[t] = ctx
	t.Cleanup(func() {
		chromiumsMu.Lock()
		delete(chromiums, t)
		chromiumsMu.Unlock()
		stop()
	})
	return ctx
}

// browser is one person's browser: a tab in a browser context of its own, at a given width.
type browser struct {
	t     *testing.T
	p     *platform
	ctx   context.Context // the tab's
	width int
	track *pageTracker
}

// newBrowser opens a tab in a new browser context (no cookie shared with the test's other
// browsers), width pixels wide.
func newBrowser(t *testing.T, p *platform, width int) *browser {
	t.Helper()
	if p.Console == "" {
		t.Fatal("the platform has no console endpoint")
	}
	ctx, cancel := chromedp.NewContext(chromiumFor(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel) // before the browser's own cleanup, registered earlier
	b := &browser{t: t, p: p, ctx: ctx, width: width, track: &pageTracker{xhr: map[network.RequestID]bool{}, docs: map[network.RequestID]bool{}}}
	// The first run opens the tab and binds it to the context it gets: the tab's own, not
	// one with a timeout (which would close the tab when it ends); the wait is bounded here.
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), viewportHeight)) }()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("open a tab: %v", err)
		}
	case <-time.After(actionTimeout):
		cancel()
		t.Fatalf("no tab opened within %s", actionTimeout)
	}
	// A tab's main frame has the tab's id; navigations keep it up to date anyway.
	b.track.mainFrame = cdp.FrameID(chromedp.FromContext(ctx).Target.TargetID)
	if err := chromedp.Listen(ctx, b.track.handle); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	go b.collectConsole()
	return b
}

// pageTracker follows, from the tab's events in order, the main frame's document requests
// and the page's XHR/fetch requests (htmx), so that actions wait until the page is idle.
type pageTracker struct {
	mu         sync.Mutex
	mainFrame  cdp.FrameID
	docs       map[network.RequestID]bool // main-frame document requests in flight
	xhr        map[network.RequestID]bool // XHR and fetch requests in flight
	seq        int64                      // events seen, to order the ones below
	docStarted int64                      // seq of the last main-frame document request
	docCount   int64                      // main-frame document requests so far
	loaded     int64                      // seq of the last load event
	lastChange time.Time                  // the last request started or ended
	status     int64                      // HTTP status of the last main-frame document
	jsErrors   []string                   // errors and uncaught exceptions the pages logged
}

func (pt *pageTracker) handle(ev any) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.seq++
	switch ev := ev.(type) {
	case *page.EventFrameNavigated:
		if ev.Frame != nil && ev.Frame.ParentID == "" {
			pt.mainFrame = ev.Frame.ID
		}
	case *network.EventRequestWillBeSent:
		switch {
		case ev.Type == network.ResourceTypeDocument && (pt.mainFrame == "" || ev.FrameID == pt.mainFrame):
			if !pt.docs[ev.RequestID] { // a redirect keeps its request id
				pt.docCount++
			}
			pt.docs[ev.RequestID] = true
			pt.docStarted = pt.seq
			pt.lastChange = time.Now()
		case ev.Type == network.ResourceTypeXHR || ev.Type == network.ResourceTypeFetch:
			pt.xhr[ev.RequestID] = true
			pt.lastChange = time.Now()
		}
	case *network.EventResponseReceived:
		if pt.docs[ev.RequestID] && ev.Response != nil {
			pt.status = ev.Response.Status
		}
	case *network.EventLoadingFinished:
		pt.done(ev.RequestID)
	case *network.EventLoadingFailed:
		pt.done(ev.RequestID)
	case *page.EventLoadEventFired:
		pt.loaded = pt.seq
		pt.lastChange = time.Now()
	}
}

func (pt *pageTracker) done(id network.RequestID) {
	if pt.docs[id] || pt.xhr[id] {
		delete(pt.docs, id)
		delete(pt.xhr, id)
		pt.lastChange = time.Now()
	}
}

// trackerState is a copy of what settle and the failure reports need.
type trackerState struct {
	inFlight     int
	docCount     int64
	loadedAfter  bool // a load event came after the last document request
	quietFor     time.Duration
	status       int64
	lastJSErrors []string
}

func (pt *pageTracker) state() trackerState {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return trackerState{
		inFlight: len(pt.docs) + len(pt.xhr), docCount: pt.docCount, loadedAfter: pt.loaded > pt.docStarted,
		quietFor: time.Since(pt.lastChange), status: pt.status,
		lastJSErrors: append([]string(nil), pt.jsErrors...),
	}
}

// collectConsole keeps the JavaScript errors of the tab, shown when a test fails.
func (b *browser) collectConsole() {
	for m, err := range chromedp.Console(b.ctx) {
		if err != nil {
			return
		}
		if m.Type == chromedp.ConsoleError || m.IsException() {
			b.track.mu.Lock()
			b.track.jsErrors = append(b.track.jsErrors, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line+1))
			b.track.mu.Unlock()
		}
	}
}

// fatalf fails the test with what the browser shows now.
func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	b.t.Fatalf("%s\n%s", fmt.Sprintf(format, args...), b.debugState())
}

// errorf reports a failure with what the browser shows now, and goes on.
func (b *browser) errorf(format string, args ...any) {
	b.t.Helper()
	b.t.Errorf("%s\n%s", fmt.Sprintf(format, args...), b.debugState())
}

// debugState is the current URL, status, title, an excerpt of the page's text and the
// JavaScript errors, for failure messages.
func (b *browser) debugState() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	type snapshot struct {
		URL   string `json:"url"`
		Title string `json:"title"`
		Text  string `json:"text"`
	}
	s, err := chromedp.Run(ctx, chromedp.Evaluate[snapshot](`({url: location.href, title: document.title,
		text: (document.body ? document.body.innerText : '').replace(/\n{3,}/g, '\n\n').slice(0, 1500)})`))
	st := b.track.state()
	var out strings.Builder
	fmt.Fprintf(&out, "--- browser (%d px) ---\n", b.width)
	if err != nil {
		fmt.Fprintf(&out, "page unreadable: %v\n", err)
	} else {
		fmt.Fprintf(&out, "URL: %s (HTTP %d)\ntitle: %s\ntext:\n%s\n", s.URL, st.status, s.Title, indent(s.Text))
	}
	if len(st.lastJSErrors) > 0 {
		fmt.Fprintf(&out, "console errors (JavaScript, failed loads):\n%s\n", indent(strings.Join(st.lastJSErrors, "\n")))
	}
	return out.String()
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// run runs an action within actionTimeout, failing the test with what the page shows.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression and decodes its value.
func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	return run(b, what, chromedp.Evaluate[T](expr))
}

// settle runs action (which may navigate, submit a form or start htmx requests), then
// waits until the page is idle: no document or XHR request in flight for a while, the
// document complete, and a new document loaded when one was requested.
func (b *browser) settle(what string, action chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	token := randomToken()
	// A mark on the current document tells whether the action replaced it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.__e2eMark = "`+token+`"`)); err != nil {
		b.fatalf("%s: %v", what, err)
	}
	before := b.track.state()
	start := time.Now()
	if _, err := chromedp.Run(ctx, action); err != nil {
		b.fatalf("%s: %v", what, err)
	}
	const grace, quiet = 300 * time.Millisecond, 150 * time.Millisecond
	for {
		st := b.track.state()
		if st.inFlight == 0 && st.quietFor >= quiet && time.Since(start) >= grace {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			type docState struct {
				Same  bool   `json:"same"`
				Ready string `json:"ready"`
			}
			d, err := chromedp.Run(pctx, chromedp.Evaluate[docState](`({same: window.__e2eMark === "`+token+`", ready: document.readyState})`))
			pcancel()
			navigated := st.docCount > before.docCount
			switch {
			case err != nil: // the document is being replaced
			case d.Ready != "complete":
			case !d.Same && navigated && !st.loadedAfter: // the new document is still loading
			default:
				return
			}
		}
		select {
		case <-ctx.Done():
			b.fatalf("%s: the page did not settle within %s", what, actionTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func randomToken() string {
	var buf [8]byte
	_, _ = rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

// visit opens the console's path (e.g. "/connexion") and waits until the page is idle.
func (b *browser) visit(path string) {
	b.t.Helper()
	b.settle("visit "+path, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.NavigateResponse(b.p.Console+path)(ctx, t)
		return err
	}))
}

// status is the HTTP status of the page shown (the last main-frame document).
func (b *browser) status() int { return int(b.track.state().status) }

// wantStatus checks the HTTP status of the page shown.
func (b *browser) wantStatus(code int) {
	b.t.Helper()
	if got := b.status(); got != code {
		b.fatalf("HTTP status %d, want %d", got, code)
	}
}

// url is the page's URL; path its path and query.
func (b *browser) url() string {
	b.t.Helper()
	return eval[string](b, "read the URL", `location.href`)
}

func (b *browser) path() string {
	b.t.Helper()
	return eval[string](b, "read the path", `location.pathname + location.search`)
}

func (b *browser) title() string {
	b.t.Helper()
	return eval[string](b, "read the title", `document.title`)
}

// attr is the attribute of the first element matching selector ("" when absent).
func (b *browser) attr(selector, name string) string {
	b.t.Helper()
	return eval[string](b, "read "+selector+"@"+name, fmt.Sprintf(`(document.querySelector(%s)?.getAttribute(%s)) ?? ""`, jsString(selector), jsString(name)))
}

// count is how many elements match selector.
func (b *browser) count(selector string) int {
	b.t.Helper()
	return eval[int](b, "count "+selector, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(selector)))
}

// text waits for an element matching selector and returns its visible text, whitespace
// collapsed.
func (b *browser) text(selector string) string {
	b.t.Helper()
	var got *string
	b.poll("an element matching "+selector, func(ctx context.Context) bool {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[*string](fmt.Sprintf(`(() => { const e = document.querySelector(%s);
			return e ? e.innerText.replace(/\s+/g, ' ').trim() : null })()`, jsString(selector))))
		got = v
		return err == nil && v != nil
	})
	return *got
}

// pageText is the page's visible text, whitespace collapsed.
func (b *browser) pageText() string {
	b.t.Helper()
	return eval[string](b, "read the page", `document.body.innerText.replace(/\s+/g, ' ').trim()`)
}

// waitText waits until the page's visible text contains s (whitespace collapsed).
func (b *browser) waitText(s string) {
	b.t.Helper()
	want := strings.Join(strings.Fields(s), " ")
	b.poll(fmt.Sprintf("the text %q", want), func(ctx context.Context) bool {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.body.innerText.replace(/\s+/g, ' ').includes(%s)`, jsString(want))))
		return err == nil && ok
	})
}

// poll calls cond until it holds, for at most actionTimeout.
func (b *browser) poll(what string, cond func(ctx context.Context) bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		ok := cond(pctx)
		pcancel()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			b.fatalf("waited %s for %s", actionTimeout, what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// domLib finds elements by their accessible name, as people and screen readers do: a
// field by its <label> (with or without the DSFR hint text inside it), aria-label or
// aria-labelledby; a button by its text, value or aria-label. It is an expression whose
// value is an object of functions, evaluated with each call (pages come and go).
const domLib = `(() => {
  const norm = s => (s || '').replace(/\s+/g, ' ').trim();
  const visible = el => el.checkVisibility ? el.checkVisibility({visibilityProperty: true}) : el.getClientRects().length > 0;
  const textOf = (node, skipHints) => {
    let out = '';
    for (const n of node.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) { out += n.textContent; continue; }
      if (n.nodeType !== Node.ELEMENT_NODE) continue;
      if (n.getAttribute('aria-hidden') === 'true' || n.hidden) continue;
      if (n.matches('input, select, textarea, script, style, template')) continue;
      if (skipHints && n.matches('.fr-hint-text, .fr-message, .fr-messages-group')) continue;
      if (n.tagName === 'IMG') { out += ' ' + (n.alt || '') + ' '; continue; }
      out += ' ' + textOf(n, skipHints) + ' ';
    }
    return out;
  };
  const byIds = ids => norm(ids.split(/\s+/).map(id => { const e = document.getElementById(id); return e ? textOf(e, false) : ''; }).join(' '));
  const variants = names => {
    const out = [];
    for (const n of names.map(norm).filter(Boolean)) { out.push(n); const bare = n.replace(/\s*\*$/, ''); if (bare !== n) out.push(bare); }
    return out;
  };
  const fieldNames = el => {
    const names = [];
    if (el.getAttribute('aria-labelledby')) names.push(byIds(el.getAttribute('aria-labelledby')));
    if (el.getAttribute('aria-label')) names.push(el.getAttribute('aria-label'));
    for (const l of el.labels || []) { names.push(textOf(l, true), textOf(l, false)); }
    if (el.title) names.push(el.title);
    return variants(names);
  };
  const buttonNames = el => {
    const names = [];
    if (el.getAttribute('aria-labelledby')) names.push(byIds(el.getAttribute('aria-labelledby')));
    if (el.getAttribute('aria-label')) names.push(el.getAttribute('aria-label'));
    names.push(el.tagName === 'INPUT' ? el.value : textOf(el, false));
    if (el.title) names.push(el.title);
    return variants(names);
  };
  const kinds = {
    field: 'input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]):not([type=image]):not([type=radio]):not([type=checkbox]), select, textarea',
    select: 'select',
    radio: 'input[type=radio]',
    checkbox: 'input[type=checkbox]',
    button: 'button, input[type=submit], input[type=button], input[type=reset], [role=button]',
    link: 'a[href]',
  };
  const namesOf = (kind, el) => (kind === 'button' || kind === 'link') ? buttonNames(el) : fieldNames(el);
  const allNamesOf = el => {
    if (!el || el === document.body || el === document.documentElement) return [];
    const kind = el.matches(kinds.button) ? 'button' : el.matches(kinds.link) ? 'link' : el.matches('input, select, textarea') ? 'field' : '';
    if (kind) return namesOf(kind, el);
    return variants([el.getAttribute('aria-label') || textOf(el, false).slice(0, 120)]);
  };
  return {
    nameOf: el => allNamesOf(el)[0] || '',
    allNamesOf,
    find(kind, name, within) {
      const root = within ? document.querySelector(within) : document;
      if (!root) return {error: 'no element matches ' + within};
      const all = [...root.querySelectorAll(kinds[kind])];
      let hits = all.filter(el => namesOf(kind, el).includes(name));
      if (hits.length > 1) { const shown = hits.filter(visible); if (shown.length) hits = shown; }
      if (hits.length !== 1) {
        return {error: hits.length ? hits.length + ' elements (' + kind + ') are named "' + name + '"' : 'no ' + kind + ' named "' + name + '"',
                available: [...new Set(all.map(el => namesOf(kind, el)[0] || '(no name: ' + el.outerHTML.slice(0, 80) + ')'))].slice(0, 50)};
      }
      const el = hits[0];
      const id = Math.random().toString(36).slice(2);
      el.setAttribute('data-e2e', id);
      return {id, visible: visible(el), disabled: !!el.disabled, tag: el.tagName.toLowerCase(), type: el.type || ''};
    },
    el(id) { return document.querySelector('[data-e2e="' + id + '"]'); },
    clear(id) {
      const el = this.el(id);
      el.focus();
      const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, '');
      el.dispatchEvent(new Event('input', {bubbles: true}));
    },
    setValue(id, value) {
      const el = this.el(id);
      el.focus();
      const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
      el.dispatchEvent(new Event('input', {bubbles: true}));
    },
    changed(id) {
      const el = this.el(id);
      el.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true}));
      el.dispatchEvent(new Event('change', {bubbles: true}));
      return el.value;
    },
    select(id, option) {
      const el = this.el(id);
      const opts = [...el.options];
      const o = opts.find(o => norm(o.textContent) === option) || opts.find(o => o.value === option);
      if (!o) return {error: 'no option "' + option + '"', available: opts.map(o => norm(o.textContent) + ' (value ' + o.value + ')')};
      el.focus();
      o.selected = true;
      el.dispatchEvent(new Event('input', {bubbles: true}));
      el.dispatchEvent(new Event('change', {bubbles: true}));
      return {};
    },
    options(id) { return [...this.el(id).options].map(o => ({text: norm(o.textContent), value: o.value})); },
    check(id, on) {
      const el = this.el(id);
      el.focus();
      if (el.checked !== on) el.click();
      return el.checked;
    },
    fieldset(legend) {
      const hits = [...document.querySelectorAll('fieldset')].filter(f => { const l = f.querySelector(':scope > legend'); return l && norm(l.innerText).includes(legend); });
      if (hits.length !== 1) return {error: hits.length + ' fieldsets have a legend containing "' + legend + '"'};
      const id = Math.random().toString(36).slice(2);
      hits[0].setAttribute('data-e2e-fieldset', id);
      return {id};
    },
  };
})()`

// found is what domLib's find returns.
type found struct {
	ID        string   `json:"id"`
	Visible   bool     `json:"visible"`
	Disabled  bool     `json:"disabled"`
	Tag       string   `json:"tag"`
	Type      string   `json:"type"`
	Error     string   `json:"error"`
	Available []string `json:"available"`
}

func (f found) selector() chromedp.CSS { return chromedp.CSS(`[data-e2e="` + f.ID + `"]`) }

// find locates the one element of kind (field, select, radio, checkbox, button, link) with
// the accessible name, within the element matching the CSS selector within ("" for the page),
// waiting for it up to actionTimeout.
func (b *browser) find(kind, name, within string) found {
	b.t.Helper()
	var f found
	var err error
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		f, err = chromedp.Run(pctx, chromedp.Evaluate[found](fmt.Sprintf(`%s.find(%s, %s, %s)`, domLib, jsString(kind), jsString(name), jsString(within))))
		pcancel()
		if err == nil && f.Error == "" {
			return f
		}
		select {
		case <-ctx.Done():
			msg := f.Error
			if err != nil {
				msg = err.Error()
			}
			if within != "" {
				msg += " within " + within
			}
			if len(f.Available) > 0 {
				msg += "; on the page: " + strings.Join(quoteAll(f.Available), ", ")
			}
			b.fatalf("find %s %q: %s", kind, name, msg)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// libCall calls a domLib function with JSON arguments.
func libCall[T any](b *browser, what, fn string, args ...any) T {
	b.t.Helper()
	parts := make([]string, len(args))
	for i, a := range args {
		j, err := json.Marshal(a)
		if err != nil {
			b.t.Fatal(err)
		}
		parts[i] = string(j)
	}
	return eval[T](b, what, fmt.Sprintf(`%s.%s(%s)`, domLib, fn, strings.Join(parts, ", ")))
}

// dateLike are input types that take no typed text.
var dateLike = map[string]bool{"date": true, "datetime-local": true, "time": true, "month": true, "week": true, "color": true, "range": true}

// fillByLabel types value into the input or textarea whose accessible name is label,
// within the element matching the CSS selector within (optional), replacing what it held
// (a select: use selectByLabel).
func (b *browser) fillByLabel(label, value string, within ...string) {
	b.t.Helper()
	f := b.find("field", label, strings.Join(within, " "))
	switch {
	case f.Disabled:
		b.fatalf("field %q is disabled", label)
	case f.Tag == "select":
		b.selectByLabel(label, value)
		return
	case dateLike[f.Type]:
		libCall[chromedp.Void](b, "set "+label, "setValue", f.ID, value)
	default:
		libCall[chromedp.Void](b, "clear "+label, "clear", f.ID)
		if value != "" {
			run(b, "type into "+label, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: value})
				return err
			}))
		}
	}
	if got := libCall[string](b, "change "+label, "changed", f.ID); got != value {
		b.fatalf("field %q holds %q after typing %q", label, got, value)
	}
}

// uploadByLabel chooses the file at path in the file field whose accessible name is label.
func (b *browser) uploadByLabel(label, path string) {
	b.t.Helper()
	f := b.find("field", label, "")
	if f.Type != "file" {
		b.fatalf("field %q is not a file field (%s)", label, f.Type)
	}
	run(b, "choose the file "+path, chromedp.SetUploadFiles(f.selector(), []string{path}))
}

// selectByLabel picks, in the select whose accessible name is label, the option whose
// text (or else value) is option.
func (b *browser) selectByLabel(label, option string) {
	b.t.Helper()
	f := b.find("select", label, "")
	if f.Disabled {
		b.fatalf("select %q is disabled", label)
	}
	if r := libCall[found](b, "select "+option, "select", f.ID, option); r.Error != "" {
		b.fatalf("select %q: %s; options: %s", label, r.Error, strings.Join(quoteAll(r.Available), ", "))
	}
}

// option is one option of a select.
type option struct {
	Text  string `json:"text"`
	Value string `json:"value"`
}

// selectOptions lists the options of the select whose accessible name is label.
func (b *browser) selectOptions(label string) []option {
	b.t.Helper()
	return libCall[[]option](b, "read the options of "+label, "options", b.find("select", label, "").ID)
}

// wantField checks that a field (input, select or textarea) with the accessible name exists.
func (b *browser) wantField(label string) {
	b.t.Helper()
	b.find("field", label, "")
}

// wantButton checks that a visible button with the accessible name exists.
func (b *browser) wantButton(name string) {
	b.t.Helper()
	if f := b.find("button", name, ""); !f.Visible {
		b.errorf("button %q is not visible", name)
	}
}

// choose selects the radio button whose accessible name is label, within the element
// matching the CSS selector within (optional; see fieldset).
func (b *browser) choose(label string, within ...string) {
	b.t.Helper()
	f := b.find("radio", label, strings.Join(within, " "))
	if f.Disabled {
		b.fatalf("radio %q is disabled", label)
	}
	if !libCall[bool](b, "choose "+label, "check", f.ID, true) {
		b.fatalf("radio %q is not checked after choosing it", label)
	}
}

// check ticks (on) or unticks the checkbox whose accessible name is label.
func (b *browser) check(label string, on bool, within ...string) {
	b.t.Helper()
	f := b.find("checkbox", label, strings.Join(within, " "))
	if got := libCall[bool](b, "tick "+label, "check", f.ID, on); got != on {
		b.fatalf("checkbox %q is %v, want %v", label, got, on)
	}
}

// fieldset is a CSS selector for the fieldset whose legend contains legend, to use as the
// container of choose or check (e.g. one operation's decision).
func (b *browser) fieldset(legend string) string {
	b.t.Helper()
	var r struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	}
	b.poll(fmt.Sprintf("a fieldset whose legend contains %q", legend), func(ctx context.Context) bool {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](fmt.Sprintf(`%s.fieldset(%s)`, domLib, jsString(legend))))
		if err == nil {
			err = json.Unmarshal(v, &r)
		}
		return err == nil && r.Error == ""
	})
	return `[data-e2e-fieldset="` + r.ID + `"]`
}

// clickButton clicks, with the mouse, the button (or input type=submit) whose accessible
// name is name, and waits until the page it leads to is loaded and idle.
func (b *browser) clickButton(name string, within ...string) {
	b.t.Helper()
	b.click("button", name, strings.Join(within, " "))
}

// clickLink follows the link whose accessible name is name.
func (b *browser) clickLink(name string, within ...string) {
	b.t.Helper()
	b.click("link", name, strings.Join(within, " "))
}

func (b *browser) click(kind, name, within string) {
	b.t.Helper()
	f := b.find(kind, name, within)
	switch {
	case !f.Visible:
		b.fatalf("%s %q is not visible", kind, name)
	case f.Disabled:
		b.fatalf("%s %q is disabled", kind, name)
	}
	b.settle(fmt.Sprintf("click %s %q", kind, name), chromedp.Click(f.selector()))
}

// signIn signs in through the dev sign-in form of /connexion (console.md) and checks that
// the console let the person in. org may be empty (moderators, admins).
func (b *browser) signIn(sub, name, role, org string) {
	b.t.Helper()
	b.visit("/connexion")
	b.fillByLabel("Identifiant", sub)
	b.fillByLabel("Nom", name)
	b.selectByLabel("Rôle", role)
	b.fillByLabel("Organisation", org)
	b.clickButton("Se connecter")
	if st := b.status(); st >= 400 {
		b.fatalf("signing in as %s (%s) gave HTTP %d", sub, role, st)
	}
	if strings.HasPrefix(b.path(), "/connexion") {
		b.fatalf("still on the sign-in page after signing in as %s (%s)", sub, role)
	}
}

// wantPageBasics checks what every page has (console.md): <html lang="fr">, a title
// ending with "– Plateforme du ROME", and a skip link "Aller au contenu" to an element of
// the page.
func (b *browser) wantPageBasics() {
	b.t.Helper()
	if lang := b.attr("html", "lang"); lang != "fr" {
		b.errorf(`<html lang=%q>, want "fr"`, lang)
	}
	if title := b.title(); !strings.HasSuffix(strings.TrimSpace(title), titleSuffix) || strings.TrimSpace(strings.TrimSuffix(title, titleSuffix)) == "" {
		b.errorf("title %q: want a page name, then %q", title, titleSuffix)
	}
	skip := b.find("link", skipLinkName, "")
	href := b.attr(`[data-e2e="`+skip.ID+`"]`, "href")
	if !strings.HasPrefix(href, "#") || len(href) < 2 {
		b.errorf("skip link %q goes to %q, want #<id of the main content>", skipLinkName, href)
	} else if n := b.count(`[id="` + href[1:] + `"]`); n != 1 {
		b.errorf("skip link %q goes to %s, which %d elements have as id", skipLinkName, href, n)
	}
}

// wantStatusPage checks that the page shown is one of the console's error pages for code:
// the HTTP status, a French page (lang, title, skip link) with a heading, which it returns.
func (b *browser) wantStatusPage(code int) string {
	b.t.Helper()
	b.wantStatus(code)
	b.wantPageBasics()
	h1 := b.text("h1")
	if h1 == "" {
		b.errorf("the %d page has an empty heading", code)
	}
	return h1
}

// axeViolation is one failed axe-core rule with the elements that fail it.
type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []string `json:"target"`
		HTML    string   `json:"html"`
		Summary string   `json:"summary"`
	} `json:"nodes"`
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axeScript is axe-core as npm installed it for the console (make assets).
func axeScript(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		root, err := devstack.FindRepoRoot(".")
		if err != nil {
			axeErr = err
			return
		}
		path := filepath.Join(root, "services", "console", "web", "node_modules", "axe-core", "axe.min.js")
		b, err := os.ReadFile(path)
		if err != nil {
			axeErr = fmt.Errorf("axe-core is missing (%v): run make assets", err)
			return
		}
		axeSource = string(b)
	})
	if axeErr != nil {
		t.Fatal(axeErr)
	}
	return axeSource
}

// checkAxe runs axe-core on the page shown (tags wcag2a, wcag2aa, wcag21a, wcag21aa) and
// reports every violation, with its elements. pageName names the page in the report.
func (b *browser) checkAxe(pageName string) {
	b.t.Helper()
	src := axeScript(b.t)
	if !eval[bool](b, "look for axe", `typeof window.axe === "object"`) {
		eval[chromedp.Void](b, "inject axe-core", src+"\n;void 0")
	}
	tags, _ := json.Marshal(axeTags)
	violations := run(b, "run axe-core on "+pageName, chromedp.Evaluate[[]axeViolation](`axe.run(document, {
			runOnly: {type: 'tag', values: `+string(tags)+`},
			resultTypes: ['violations'],
		}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl,
			nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html, summary: n.failureSummary || ''}))})))`,
		chromedp.EvalAwaitPromise))
	if len(violations) == 0 {
		return
	}
	var out strings.Builder
	fmt.Fprintf(&out, "axe-core: %d violation(s) on %s (%s, %d px):", len(violations), pageName, b.url(), b.width)
	for _, v := range violations {
		fmt.Fprintf(&out, "\n  [%s] %s: %s (%s)", v.Impact, v.ID, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&out, "\n      %s\n        %s", strings.Join(n.Target, " "), n.HTML)
			if n.Summary != "" {
				fmt.Fprintf(&out, "\n        %s", strings.ReplaceAll(n.Summary, "\n", "\n        "))
			}
		}
	}
	b.t.Error(out.String())
}

// screenshotDir is ROME_SCREENSHOTS_DIR, or <repo>/.dev/screenshots (not committed).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ROME_SCREENSHOTS_DIR")
	if dir == "" {
		root, err := devstack.FindRepoRoot(".")
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".dev", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// screenshot writes a full-page PNG of what the browser shows to <dir>/<name>-<width>.png.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(screenshotDir(b.t), fmt.Sprintf("%s-%d.png", unsafeName.ReplaceAllString(name, "_"), b.width))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// Keyboard: the keys go to the focused element, as a person's would.

// pressTab moves the focus forward; pressShiftTab backward.
func (b *browser) pressTab() {
	b.t.Helper()
	run(b, "press Tab", chromedp.KeyEvent(kb.Tab))
}

func (b *browser) pressShiftTab() {
	b.t.Helper()
	run(b, "press Shift+Tab", chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
}

// typeText types s, key by key, into the focused element.
func (b *browser) typeText(s string) {
	b.t.Helper()
	run(b, fmt.Sprintf("type %q", s), chromedp.KeyEvent(s))
}

// pressEnter and pressSpace press the key and wait for what it started (a form submitted,
// a link followed, a button's htmx request) to end.
func (b *browser) pressEnter() {
	b.t.Helper()
	b.settle("press Enter", chromedp.KeyEvent(kb.Enter))
}

func (b *browser) pressSpace() {
	b.t.Helper()
	b.settle("press Space", chromedp.KeyEvent(" "))
}

// focusedName is the accessible name (or label, without the DSFR hint text) of the
// focused element; "" for none.
func (b *browser) focusedName() string {
	b.t.Helper()
	return eval[string](b, "read the focused element", domLib+`.nameOf(document.activeElement)`)
}

// tabTo presses Tab until the element named name has the focus, at most max times.
func (b *browser) tabTo(name string, max int) {
	b.t.Helper()
	var seen []string
	for range max {
		b.pressTab()
		names := eval[[]string](b, "read the focused element", domLib+`.allNamesOf(document.activeElement)`)
		if slices.Contains(names, name) {
			return
		}
		seen = append(seen, strings.Join(names, " / "))
	}
	b.fatalf("%q not reached with %d Tab presses; the focus went through: %s", name, max, strings.Join(quoteAll(seen), ", "))
}

// testConsoleSignInPage: /connexion in French, with its skip link, the dev sign-in form,
// and no axe-core violation, at desktop and at 320 px.
func testConsoleSignInPage(t *testing.T, p *platform) {
	for _, width := range []int{1280, 320} {
		b := newBrowser(t, p, width)
		b.visit("/connexion")
		b.wantStatus(200)
		b.wantPageBasics()
		for _, label := range []string{"Identifiant", "Nom", "Organisation"} {
			b.wantField(label)
		}
		values := map[string]bool{}
		for _, o := range b.selectOptions("Rôle") {
			values[o.Value], values[o.Text] = true, true
		}
		for _, role := range []string{"partner", "moderator", "admin"} {
			if !values[role] {
				b.errorf("the Rôle select has no option %s: %v", role, b.selectOptions("Rôle"))
			}
		}
		b.wantButton("Se connecter")
		b.checkAxe("connexion")
		b.screenshot("connexion")
	}
}
