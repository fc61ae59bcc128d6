package main

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/tools/devstack"
	"github.com/plateforme-rome/rome/tools/loadtest/benchstack"
)

// searchQueries are what people type in the appellation search, one per line: whole words,
// prefixes, missing accents, typos. The referential's BenchmarkSearchV460 times each.
//
//go:embed search-queries.txt
var searchQueriesText string

var searchQueries = strings.Split(strings.TrimSpace(searchQueriesText), "\n")

// newReads compares the referential's hot reads with floorserver serving a body of the same
// size, and first measures the first search after the referential starts.
func newReads(ctx context.Context, stack *benchstack.Stack, t phaseTimes) ([]comparison, func(), error) {
	ref := stack.Endpoints.Referential
	if err := firstSearch(ctx, stack); err != nil {
		return nil, nil, err
	}
	codes, err := allCodes(ref)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "rome-sidebyside-")
	if err != nil {
		return nil, nil, err
	}
	floor, err := startFloorServer(ctx, dir, ref+"/v1/fiches/M1805")
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	var fiches, metiers, searches []string
	for _, code := range codes {
		fiches = append(fiches, "/v1/fiches/"+code)
		metiers = append(metiers, "/rome-metiers/v1/metiers/metier/"+code)
	}
	for _, q := range searchQueries {
		searches = append(searches, "/v1/search/appellations?q="+url.QueryEscape(q))
	}
	wrkPhase := func(base string, paths []string, connections int, process func() (int, error), gzip bool) func(context.Context) (sample, error) {
		return func(ctx context.Context) (sample, error) {
			pid, err := process()
			if err != nil {
				return sample{}, err
			}
			r, err := runWrk(ctx, dir, base, paths, connections, t.measured, pid, gzip)
			return sample{rate: r.rate(), p50: r.p50(), p99: r.p99(), cpu: r.cpu()}, err
		}
	}
	referential := func() (int, error) { return benchstack.PID("referential") }
	floorPID := func() (int, error) { return floor.cmd.Process.Pid, nil }
	// Each fiche route twice: from clients that take gzip (most do), and from those that
	// do not (wrk's default).
	cs := []comparison{
		{what: "GET /v1/fiches/{code}, wrk 32 connections", floor: wrkPhase(floor.url, fiches, 32, floorPID, false), platform: wrkPhase(ref, fiches, 32, referential, false)},
		{what: "GET /v1/fiches/{code}, 32 conn., gzip", floor: wrkPhase(floor.url, fiches, 32, floorPID, true), platform: wrkPhase(ref, fiches, 32, referential, true)},
		{what: "GET …/metiers/metier/{code}, wrk 32 conn.", floor: wrkPhase(floor.url, metiers, 32, floorPID, false), platform: wrkPhase(ref, metiers, 32, referential, false)},
		{what: "GET …/metiers/metier/{code}, gzip", floor: wrkPhase(floor.url, metiers, 32, floorPID, true), platform: wrkPhase(ref, metiers, 32, referential, true)},
		{what: "appellation search, wrk 8 connections", platform: wrkPhase(ref, searches, 8, referential, false)},
	}
	fmt.Printf("reads: %d codes ROME; the floor serves M1805's fiche (%d bytes) on every path\n", len(codes), floor.bodySize)
	return cs, func() {
		fmt.Printf("after the reads: referential RSS %d MB, floorserver RSS %d MB\n\n", benchstack.RSSOf("referential"), benchstack.RSS(floor.cmd.Process.Pid))
		floor.cmd.Process.Kill()
		floor.cmd.Wait()
		os.RemoveAll(dir)
	}, nil
}

// firstSearch restarts the referential and times its first two searches: the first one must
// not pay for building the index.
func firstSearch(ctx context.Context, stack *benchstack.Stack) error {
	if err := stack.Kill("referential"); err != nil {
		return err
	}
	if err := stack.Restart(ctx, "referential"); err != nil {
		return err
	}
	var took [2]time.Duration
	for i := range took {
		start := time.Now()
		if _, err := benchstack.Call(http.MethodGet, stack.Endpoints.Referential+"/v1/search/appellations?q="+url.QueryEscape(searchQueries[i]), "", nil, nil); err != nil {
			return err
		}
		took[i] = time.Since(start)
	}
	fmt.Printf("search after the referential starts: first query %s, second %s\n",
		took[0].Round(10*time.Microsecond), took[1].Round(10*time.Microsecond))
	return nil
}

// allCodes lists every code ROME of the current version.
func allCodes(ref string) ([]string, error) {
	var codes []string
	for cursor := ""; ; {
		var page struct {
			Items []struct {
				CodeRome string `json:"codeRome"`
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		if _, err := benchstack.Call(http.MethodGet, ref+"/v1/fiches?limit=200&cursor="+url.QueryEscape(cursor), "", nil, &page); err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			codes = append(codes, it.CodeRome)
		}
		if page.NextCursor == nil {
			return codes, nil
		}
		cursor = *page.NextCursor
	}
}

type floorServer struct {
	cmd      *exec.Cmd
	url      string
	bodySize int
}

// startFloorServer builds floorserver and starts it with the body found at bodyURL.
func startFloorServer(ctx context.Context, dir, bodyURL string) (*floorServer, error) {
	res, err := http.Get(bodyURL)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %v", bodyURL, res.StatusCode, err)
	}
	bodyFile, bin := filepath.Join(dir, "body.json"), filepath.Join(dir, "floorserver")
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		return nil, err
	}
	root, err := devstack.FindRepoRoot(".")
	if err != nil {
		return nil, err
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./tools/loadtest/cmd/floorserver")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build floorserver: %w: %s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-body", bodyFile)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("floorserver did not say where it listens: %w", err)
	}
	return &floorServer{cmd: cmd, url: "http://" + addr[:len(addr)-1], bodySize: len(body)}, nil
}
