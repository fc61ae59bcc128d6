package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/tools/devstack"
)

// The replicated stack's load. The referential's goal, 1 s from publication to every replica,
// is a performance goal: measured and logged here, written down in BENCHMARKS.md, not asserted
// (a loaded two-core machine stretches it); that every replica serves every version is.
const (
	replicatedSubmitEvery = 700 * time.Millisecond
	// How long, once the load stops, every replica may take to serve the latest version.
	replicasCatchUpDeadline = time.Minute
	moderatorReplicasMail   = "moderator-replicas@example.org"
)

// TestReplicated runs two processes of every service and two workers on one PostgreSQL,
// each service behind devstack's round-robin proxy, and kills (SIGKILL) then restarts one
// replica of each kind while a partner keeps submitting and moderators decide: every
// request reaches its outcome, each accepted decision makes one referential version, each
// submission one e-mail to the moderator and one Teams channel, a console session outlives
// its replica, and both referential replicas serve every new version promptly.
// `make test-replicated`; ROME_TEMPORAL=cluster runs it on the two-node Temporal cluster.
func TestReplicated(t *testing.T) {
	p := startReplicated(t, 2)
	const org, partnerSub, moderSub = "opco-replicas", "partner-replicas", "moderator-replicas"
	partner := devToken(t, p, partnerSub, "partner", org)
	moder := devToken(t, p, moderSub, "moderator", "")
	callJSON(t, http.MethodPut, p.Notifications+"/v1/notifications/preferences", moder,
		map[string]any{"email": moderatorReplicasMail}, http.StatusOK, nil)
	codes := ficheCodes(t, p, 200)
	console := signInToConsole(t, p, moderSub)
	console.wantSignedInOnEveryReplica(t)

	var (
		c        = &retryingClient{http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
		mu       sync.Mutex
		outcomes = map[string]string{} // request id → the status its decision leads to
		order    []string              // request ids, in submission order
	)
	watcher := watchVersions(p.stack.Replicas("referential"))
	defer watcher.stop()

	// The load: a submission every replicatedSubmitEvery, each on a fiche of its own (no
	// publication conflicts), decided by two moderators' loops in turn: even ones
	// accepted (a new version), odd ones rejected. Every new connection goes to the next
	// replica: no keep-alive pins the load to one.
	loadCtx, stopLoad := context.WithCancel(context.Background())
	type decision struct {
		id     string
		accept bool
	}
	toDecide := make(chan decision, len(codes))
	var workers sync.WaitGroup
	workers.Go(func() {
		defer close(toDecide)
		tick := time.NewTicker(replicatedSubmitEvery)
		defer tick.Stop()
		for i := 0; i < len(codes); i++ {
			select {
			case <-loadCtx.Done():
				return
			case <-tick.C:
			}
			var r requestView
			err := c.do(http.MethodPost, p.Intake+"/v1/requests", partner, "replicas-submit-"+strconv.Itoa(i), map[string]any{
				"kind": "modify_fiche", "codeRome": codes[i], "title": fmt.Sprintf("Réplicas %d", i),
				"justification": "Charge pendant l'arrêt brutal d'un réplica.",
				"operations":    []map[string]any{{"op": "add_appellation", "libelle": fmt.Sprintf("Opérateur répliqué %d", i)}},
			}, http.StatusCreated, &r)
			if err != nil {
				t.Errorf("submission %d: %v", i, err)
				continue
			}
			accept := i%2 == 0
			mu.Lock()
			order = append(order, r.ID)
			outcomes[r.ID] = map[bool]string{true: "PUBLISHED", false: "REJECTED"}[accept]
			mu.Unlock()
			toDecide <- decision{r.ID, accept}
		}
	})
	for range 2 {
		workers.Go(func() {
			for d := range toDecide {
				if err := decide(c, p, moder, moderSub, d.id, d.accept); err != nil {
					t.Errorf("request %s: %v", d.id, err)
				}
			}
		})
	}

	// One replica of each kind killed, then restarted, while the load goes on.
	time.Sleep(8 * time.Second)
	var referentialDown []downtime
	victims := []string{"intake-1", "referential-2", "notifications-1", "console-2", "worker-1"}
	if p.stack.Options.Temporal == devstack.TemporalCluster {
		victims = append(victims, "temporal-1") // the other node serves meanwhile
	}
	for _, name := range victims {
		killed := time.Now()
		if err := p.stack.Kill(name); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		err := p.stack.Restart(ctx, name)
		cancel()
		if err != nil {
			t.Fatalf("restart %s: %v", name, err)
		}
		t.Logf("%s killed with SIGKILL, back after %s", name, time.Since(killed).Round(time.Millisecond))
		if strings.HasPrefix(name, "referential-") {
			referentialDown = append(referentialDown, downtime{replica: name, from: killed, to: time.Now()})
		}
		time.Sleep(4 * time.Second)
	}
	stopLoad()
	workers.Wait()
	submitted := order
	t.Logf("%d requests submitted under load; %d calls retried after a dropped connection or a 5xx; %d assignments "+
		"tried again while a workflow caught up with its projection", len(submitted), c.retries.Load(), c.behind.Load())
	if len(submitted) < 20 {
		t.Fatalf("only %d requests submitted: the load did not run", len(submitted))
	}
	select {
	case err := <-p.failed:
		t.Fatalf("a member of the stack died on its own: %v", err)
	default:
	}

	// Nothing lost: every request reaches the outcome of its decision, each step once.
	for _, id := range submitted {
		waitStatus(t, p, partner, id, outcomes[id], 2*time.Minute)
		h := types(history(t, p, partner, id))
		for _, typ := range []string{"submitted", "checks_completed", "assigned", "decided"} {
			if count(h, typ) != 1 {
				t.Errorf("request %s: history %v: %q not exactly once", id, h, typ)
			}
		}
		if want := map[bool]int{true: 1, false: 0}[outcomes[id] == "PUBLISHED"]; count(h, "published") != want {
			t.Errorf("request %s (%s): history %v: %d published, want %d", id, outcomes[id], h, count(h, "published"), want)
		}
	}

	// One version per accepted decision, none for a rejection.
	versions := referentialVersions(t, p)
	perRequest := map[string]int{}
	for _, v := range versions {
		perRequest[v.RequestID]++
	}
	for _, id := range submitted {
		if want := map[bool]int{true: 1, false: 0}[outcomes[id] == "PUBLISHED"]; perRequest[id] != want {
			t.Errorf("request %s (%s): %d referential versions, want %d", id, outcomes[id], perRequest[id], want)
		}
	}
	latest := versions[len(versions)-1].Version
	for _, r := range p.stack.Replicas("referential") {
		eventually(t, replicasCatchUpDeadline, r.Name+" does not serve the latest version", func() bool {
			v, err := servedVersion(http.DefaultClient, r.URL())
			return err == nil && v == latest
		})
	}
	watcher.stop()
	watcher.report(t, versions, referentialDown)

	// One e-mail per notification: the submission's, to the moderator. A replica killed
	// between sending and recording it may send it again, with the same Message-ID (mail
	// clients show it once); two different Message-IDs would be two notifications.
	resends := 0
	eventually(t, time.Minute, "an e-mail of a submission is missing", func() bool {
		return len(submissionMails(t, p, submitted)) == len(submitted)
	})
	time.Sleep(3 * time.Second) // a late duplicate would arrive by now
	for id, byMessageID := range submissionMails(t, p, submitted) {
		if len(byMessageID) != 1 {
			t.Errorf("request %s: %d e-mails with different Message-IDs to the moderator: %v", id, len(byMessageID), byMessageID)
		}
		for _, n := range byMessageID {
			resends += n - 1
		}
	}
	t.Logf("e-mails: %d submissions, %d resent with the same Message-ID", len(submitted), resends)

	// One Teams channel per request.
	eventually(t, time.Minute, "a request has no Teams channel", func() bool {
		st := graphState(t, p)
		return !slices.ContainsFunc(submitted, func(id string) bool { return channelCount(st, id) == 0 })
	})
	st := graphState(t, p)
	for _, id := range submitted {
		if n := channelCount(st, id); n != 1 {
			t.Errorf("request %s: %d Teams channels", id, n)
		}
	}

	// The console session opened before the kills is good on both replicas, the restarted one too.
	console.wantSignedInOnEveryReplica(t)
}

// retryingClient sends a call until it gets an answer below 500, for up to a minute: a
// replica killed mid-call drops the connection, or a service answers 502/503 while the one
// it called is down. Calls that change something carry an Idempotency-Key, which makes the
// retry answer the first outcome instead of acting twice.
type retryingClient struct {
	http    *http.Client
	retries atomic.Int64
	behind  atomic.Int64 // assignments refused while the workflow caught up with its projection (decide)
}

// unexpectedAnswer is an answer below 500 other than the one wanted.
type unexpectedAnswer struct {
	call    string
	status  int
	body    []byte
	retried bool // after a dropped connection or a 5xx: an earlier attempt may have acted
}

func (e *unexpectedAnswer) Error() string {
	return fmt.Sprintf("%s = %d (retried: %t): %s", e.call, e.status, e.retried, e.body)
}

// do sends the call and decodes the answer into out (may be nil); an answer other than
// want is an *unexpectedAnswer. key "" sends none (reads).
func (c *retryingClient) do(method, url, token, key string, body any, want int, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(time.Minute)
	for attempt := 0; ; attempt++ {
		status, b, err := c.once(method, url, token, key, raw)
		switch {
		case err == nil && status < 500:
			if status != want {
				return &unexpectedAnswer{call: method + " " + url, status: status, body: b, retried: attempt > 0}
			}
			if out == nil {
				return nil
			}
			return json.Unmarshal(b, out)
		case time.Now().After(deadline):
			return fmt.Errorf("%s %s: still failing after a minute: %d %v %s", method, url, status, err, b)
		}
		c.retries.Add(1)
		time.Sleep(300 * time.Millisecond)
	}
}

func (c *retryingClient) once(method, url, token, key string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// decide waits for the request's checks, assigns it to the moderator and accepts or
// rejects its one operation. Each call carries an Idempotency-Key: a decision whose first
// attempt died with its intake replica, after the workflow applied it, gets its outcome
// when retried, even when it closed the request (a rejection).
func decide(c *retryingClient, p *platform, moder, moderSub, id string, accept bool) error {
	var r requestView
	for deadline := time.Now().Add(2 * time.Minute); r.Status != "AWAITING_TRIAGE"; time.Sleep(500 * time.Millisecond) {
		if err := c.do(http.MethodGet, p.Intake+"/v1/requests/"+id, moder, "", nil, http.StatusOK, &r); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still %s after 2 minutes, want AWAITING_TRIAGE", r.Status)
		}
	}
	// The projection can be ahead of the workflow: when a Temporal node dies during the
	// workflow task that recorded the checks' events, the task runs again (its events are
	// recorded again, the same), and until it completes the workflow still says SUBMITTED or
	// CHECKING and refuses the assignment with 409 and its status, as it would a moderator,
	// who tries again.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		err := c.do(http.MethodPost, p.Intake+"/v1/requests/"+id+"/assign", moder, "replicas-assign-"+id,
			map[string]any{"moderator": moderSub}, http.StatusOK, nil)
		var answer *unexpectedAnswer
		behind := errors.As(err, &answer) && answer.status == http.StatusConflict &&
			(bytes.Contains(answer.body, []byte(`"currentStatus":"SUBMITTED"`)) || bytes.Contains(answer.body, []byte(`"currentStatus":"CHECKING"`)))
		if !behind || time.Now().After(deadline) {
			if err != nil {
				return err
			}
			break
		}
		c.behind.Add(1)
	}
	decision := map[string]any{"operationId": r.Operations[0].ID, "decision": "accepted", "rationale": "Attesté."}
	if !accept {
		decision["decision"], decision["rationale"] = "rejected", "Peu répandu."
	}
	return c.do(http.MethodPost, p.Intake+"/v1/requests/"+id+"/decision", moder, "replicas-decide-"+id,
		map[string]any{"decisions": []any{decision}}, http.StatusOK, nil)
}

// ficheCodes lists n fiche codes of the referential.
func ficheCodes(t *testing.T, p *platform, n int) []string {
	t.Helper()
	var page struct {
		Items []struct {
			CodeRome string `json:"codeRome"`
		} `json:"items"`
	}
	callJSON(t, http.MethodGet, p.Referential+"/v1/fiches?limit="+strconv.Itoa(n), "", nil, http.StatusOK, &page)
	codes := make([]string, len(page.Items))
	for i, f := range page.Items {
		codes[i] = f.CodeRome
	}
	if len(codes) != n {
		t.Fatalf("%d fiches, want %d", len(codes), n)
	}
	return codes
}

type referentialVersionItem struct {
	Version     int       `json:"version"`
	RequestID   string    `json:"requestId"`
	PublishedAt time.Time `json:"publishedAt"`
}

// referentialVersions lists every version, oldest first.
func referentialVersions(t *testing.T, p *platform) []referentialVersionItem {
	t.Helper()
	var vs struct {
		Items []referentialVersionItem `json:"items"`
	}
	callJSON(t, http.MethodGet, p.Referential+"/v1/versions", "", nil, http.StatusOK, &vs)
	slices.SortFunc(vs.Items, func(a, b referentialVersionItem) int { return a.Version - b.Version })
	if len(vs.Items) == 0 {
		t.Fatal("the referential lists no version")
	}
	return vs.Items
}

// submissionMails counts, for each request of ids that has some, the e-mails announcing
// its submission to the moderator, by Message-ID.
func submissionMails(t *testing.T, p *platform, ids []string) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	for _, m := range mailsTo(t, p, moderatorReplicasMail) {
		if !strings.Contains(m.Subject, "déposée par") {
			continue
		}
		for _, id := range ids {
			if strings.Contains(m.Body, id) {
				if out[id] == nil {
					out[id] = map[string]int{}
				}
				out[id][m.MessageID]++
			}
		}
	}
	return out
}

// downtime is when a referential replica was down (killed until ready again).
type downtime struct {
	replica  string
	from, to time.Time
}

// versionWatcher polls every referential replica directly, bypassing the proxy, and notes
// when each first served each version.
type versionWatcher struct {
	replicas  []devstack.Replica
	mu        sync.Mutex
	firstSeen []map[int]time.Time // by replica, version → when
	done      chan struct{}
	stopOnce  sync.Once
	wg        sync.WaitGroup
}

// versionPoll is how often the watcher asks: the resolution of the latencies it measures.
const versionPoll = 50 * time.Millisecond

func watchVersions(replicas []devstack.Replica) *versionWatcher {
	w := &versionWatcher{replicas: replicas, done: make(chan struct{})}
	client := &http.Client{Timeout: time.Second}
	for i, r := range replicas {
		w.firstSeen = append(w.firstSeen, map[int]time.Time{})
		w.wg.Go(func() {
			last := 0
			for {
				select {
				case <-w.done:
					return
				case <-time.After(versionPoll):
				}
				v, err := servedVersion(client, r.URL())
				if err != nil || v <= last {
					continue // down (killed), or nothing new
				}
				now := time.Now()
				from := v // the first answer: only the version served then
				if last > 0 {
					from = last + 1 // versions published between two polls were first served now
				}
				w.mu.Lock()
				for n := from; n <= v; n++ {
					w.firstSeen[i][n] = now
				}
				w.mu.Unlock()
				last = v
			}
		})
	}
	return w
}

func servedVersion(client *http.Client, base string) (int, error) {
	resp, err := client.Get(base + "/v1/version")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s", resp.Status)
	}
	var v struct {
		Version int `json:"version"`
	}
	err = json.NewDecoder(resp.Body).Decode(&v)
	return v.Version, err
}

func (w *versionWatcher) stop() {
	w.stopOnce.Do(func() { close(w.done) })
	w.wg.Wait()
}

// report logs, for each version published during the run, how long after its publication
// each replica served it, and fails when one never did. A replica that was down when a
// version was published loads it as it starts: not a latency.
func (w *versionWatcher) report(t *testing.T, versions []referentialVersionItem, down []downtime) {
	t.Helper()
	var latencies []time.Duration
	var lines []string
	for _, v := range versions {
		if v.RequestID == "" {
			continue // the import's
		}
		line := fmt.Sprintf("v%d:", v.Version)
		for i, r := range w.replicas {
			seen, ok := w.firstSeen[i][v.Version]
			if !ok {
				t.Errorf("%s never served version %d (published %s)", r.Name, v.Version, v.PublishedAt.Format(time.StampMilli))
				continue
			}
			if slices.ContainsFunc(down, func(d downtime) bool {
				return d.replica == r.Name && !seen.Before(d.from) && v.PublishedAt.Before(d.to)
			}) {
				line += " " + r.Name + " restarting" // killed before it served the version, which it loaded as it started
				continue
			}
			lag := max(seen.Sub(v.PublishedAt), 0)
			latencies = append(latencies, lag)
			line += fmt.Sprintf(" %s +%s", r.Name, lag.Round(time.Millisecond))
		}
		lines = append(lines, line)
	}
	if len(latencies) == 0 {
		t.Fatal("no version published during the run was measured")
	}
	slices.Sort(latencies)
	t.Logf("referential replicas, publication → served (polled every %s), by version:\n  %s", versionPoll, strings.Join(lines, "\n  "))
	t.Logf("publication → served on each replica: median %s, p90 %s, max %s over %d measures (goal 1s)",
		latencies[len(latencies)/2].Round(time.Millisecond), latencies[len(latencies)*9/10].Round(time.Millisecond),
		latencies[len(latencies)-1].Round(time.Millisecond), len(latencies))
}

// consoleSession is a person signed in to the console, their cookies in a jar (cookies are
// not tied to a port: the same jar is good on every replica).
type consoleSession struct {
	client   *http.Client
	replicas []devstack.Replica
}

// signInToConsole signs in through the console's proxy with the dev form.
func signInToConsole(t *testing.T, p *platform, sub string) *consoleSession {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &consoleSession{replicas: p.stack.Replicas("console"), client: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	resp, err := s.client.Get(p.Console + "/connexion")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	base, _ := url.Parse(p.Console)
	csrf := ""
	for _, ck := range jar.Cookies(base) {
		if strings.HasSuffix(ck.Name, "presession") {
			csrf = ck.Value
		}
	}
	if csrf == "" {
		t.Fatalf("GET /connexion (%s) set no pre-session cookie", resp.Status)
	}
	resp, err = s.client.PostForm(p.Console+"/connexion/dev", url.Values{
		"sub": {sub}, "name": {"E2E moderator"}, "role": {"moderator"}, "csrf": {csrf},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dev sign-in on the console: %s, want 303", resp.Status)
	}
	return s
}

// wantSignedInOnEveryReplica asks each console replica directly for the dashboard, which
// redirects to the sign-in page without a session it knows.
func (s *consoleSession) wantSignedInOnEveryReplica(t *testing.T) {
	t.Helper()
	for _, r := range s.replicas {
		resp, err := s.client.Get(r.URL() + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: the dashboard answers %s (%s) to a signed-in person, want 200", r.Name, resp.Status, resp.Header.Get("Location"))
		}
	}
}
