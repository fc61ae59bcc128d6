// Command consolebench measures the web console's server-rendered pages as BENCHMARKS.md
// reports them: concurrent signed-in people (half partners, half moderators), each in a
// closed loop over the pages of their role (dashboard, request list or queue, a request's
// page, a fiche), against a running stack (`make dev`). It prints each page's latency
// percentiles (the services' calls included) and HTML size. With -think, each person
// pauses between pages as people do; without, every person asks for the next page at once
// (the saturation throughput of the machine).
//
//	go run ./tools/loadtest/cmd/consolebench [-console http://127.0.0.1:8080 -intake http://127.0.0.1:8081 -users 20 -d 30s -think 1s]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	var (
		consoleURL = flag.String("console", "http://127.0.0.1:8080", "the console")
		intakeURL  = flag.String("intake", "http://127.0.0.1:8081", "the intake (dev tokens, the request the pages show)")
		users      = flag.Int("users", 20, "people signed in at once, half partners, half moderators")
		dur        = flag.Duration("d", 30*time.Second, "measured duration")
		warmup     = flag.Duration("warmup", 3*time.Second, "load before measuring")
		fiche      = flag.String("fiche", "M1805", "the fiche whose page is read")
		think      = flag.Duration("think", 0, "pause of each person between two pages (0: none)")
	)
	flag.Parse()
	if err := run(*consoleURL, *intakeURL, *users, *dur, *warmup, *think, *fiche); err != nil {
		fmt.Fprintln(os.Stderr, "consolebench:", err)
		os.Exit(1)
	}
}

func run(consoleURL, intakeURL string, users int, dur, warmup, think time.Duration, fiche string) error {
	ctx := context.Background()
	id, err := fileRequest(ctx, intakeURL, fiche)
	if err != nil {
		return fmt.Errorf("file the request the pages show: %w", err)
	}
	pages := map[string][]string{
		"partner":   {"/", "/demandes", "/demandes/" + id, "/referentiel/fiches/" + fiche},
		"moderator": {"/", "/moderation", "/demandes/" + id, "/referentiel/fiches/" + fiche},
	}
	var people []*person
	for i := range users {
		role, org := "partner", "bench-org"
		if i%2 == 1 {
			role, org = "moderator", ""
		}
		p, err := signIn(ctx, consoleURL, fmt.Sprintf("bench-%s-%d", role, i), role, org)
		if err != nil {
			return fmt.Errorf("sign in %s %d: %w", role, i, err)
		}
		p.pages = pages[role]
		people = append(people, p)
	}

	var (
		mu      sync.Mutex
		samples = map[string][]time.Duration{}
		sizes   = map[string]int{}
		errs    = map[string]int{}
	)
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+dur)
	var wg sync.WaitGroup
	for _, p := range people {
		wg.Go(func() {
			// People do not click in step: each starts at a random moment of a think time
			// and pauses between half and one and a half of it.
			time.Sleep(jitter(think))
			for i := 0; time.Now().Before(end); i++ {
				path := p.pages[i%len(p.pages)]
				t0 := time.Now()
				n, err := p.get(ctx, consoleURL+path)
				elapsed := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				key := p.role + " " + template(path, id)
				mu.Lock()
				if err != nil {
					errs[key]++
				} else {
					samples[key] = append(samples[key], elapsed)
					sizes[key] = n
				}
				mu.Unlock()
				time.Sleep(think/2 + jitter(think))
			}
		})
	}
	wg.Wait()

	fmt.Printf("%d people (%d partners, %d moderators), think time %s, %s measured after %s of warm-up\n", users, (users+1)/2, users/2, think, dur, warmup)
	fmt.Printf("%-44s %8s %8s %8s %8s %8s %6s\n", "page", "requests", "p50", "p95", "p99", "HTML", "errors")
	keys := make([]string, 0, len(samples))
	for k := range samples {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var all []time.Duration
	for _, k := range keys {
		s := samples[k]
		all = append(all, s...)
		fmt.Printf("%-44s %8d %8s %8s %8s %7.1fK %6d\n", k, len(s), pct(s, 50), pct(s, 95), pct(s, 99), float64(sizes[k])/1024, errs[k])
	}
	fmt.Printf("%-44s %8d %8s %8s %8s\n", "all pages", len(all), pct(all, 50), pct(all, 95), pct(all, 99))
	fmt.Printf("throughput: %.0f pages/s\n", float64(len(all))/dur.Seconds())
	return nil
}

// jitter is a random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// template names a page without the request's id.
func template(path, id string) string { return strings.ReplaceAll(path, id, "{id}") }

func pct(s []time.Duration, p int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(100 * time.Microsecond)
}

// person is a signed-in browser: its cookie jar holds the session.
type person struct {
	role  string
	http  *http.Client
	pages []string
}

func (p *person) get(ctx context.Context, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	res, err := p.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return len(b), nil
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn goes through the dev sign-in form, as a person would.
func signIn(ctx context.Context, consoleURL, sub, role, org string) (*person, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	res, err := hc.Get(consoleURL + "/connexion")
	if err != nil {
		return nil, err
	}
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	m := csrfInput.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("no CSRF field on the sign-in page")
	}
	form := url.Values{"csrf": {html.UnescapeString(string(m[1]))}, "sub": {sub}, "name": {sub}, "role": {role}, "org": {org}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, consoleURL+"/connexion/dev", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err = hc.Do(req)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/" {
		return nil, fmt.Errorf("sign-in answered %s at %s", res.Status, res.Request.URL)
	}
	return &person{role: role, http: hc}, nil
}

// fileRequest submits, as a partner of the benchmark's organisation, the request whose page
// is read, and waits until its checks are done.
func fileRequest(ctx context.Context, intakeURL, fiche string) (string, error) {
	var tok struct {
		Token string `json:"token"`
	}
	if err := post(ctx, intakeURL+"/dev/token", "", map[string]string{"sub": "bench-filer", "name": "Bench", "role": "partner", "org": "bench-org"}, &tok); err != nil {
		return "", err
	}
	var r struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	body := map[string]any{
		"kind": "modify_fiche", "codeRome": fiche, "title": "Mesure de la console",
		"justification": "Demande créée par consolebench pour mesurer les pages.",
		"operations": []map[string]any{
			{"op": "add_appellation", "libelle": fmt.Sprintf("Appellation de mesure %d", time.Now().UnixNano())},
			{"op": "add_mobilite", "toCodeRome": "M1801", "rank": 1},
		},
	}
	if err := post(ctx, intakeURL+"/v1/requests", tok.Token, body, &r); err != nil {
		return "", err
	}
	deadline := time.Now().Add(time.Minute)
	for r.Status != "AWAITING_TRIAGE" && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, intakeURL+"/v1/requests/"+r.ID, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		err = json.NewDecoder(res.Body).Decode(&r)
		res.Body.Close()
		if err != nil {
			return "", err
		}
	}
	return r.ID, nil
}

func post(ctx context.Context, u, token string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("POST %s: %s: %s", u, res.Status, raw)
	}
	return json.Unmarshal(raw, out)
}
