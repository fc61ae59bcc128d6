package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/tools/loadtest/benchstack"
)

// rotateScript makes wrk go round a file of paths (one per line), each thread from its own
// offset, and print its summary as one JSON line.
const rotateScript = `
local paths = {}
local n = 0
local offset = 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  offset = math.random(#paths)
end
function request()
  n = n + 1
  return wrk.format(nil, paths[(offset + n) % #paths + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('SUMMARY {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
`

// wrkResult is one wrk run, with the server's CPU time over it.
type wrkResult struct {
	Requests   int64   `json:"requests"`
	DurationUs int64   `json:"durationUs"`
	P50Us      int64   `json:"p50Us"`
	P99Us      int64   `json:"p99Us"`
	Errors     int64   `json:"errors"`
	CPUPerReq  float64 `json:"-"` // server CPU seconds per request
}

func (r wrkResult) rate() float64      { return float64(r.Requests) / (float64(r.DurationUs) / 1e6) }
func (r wrkResult) p50() time.Duration { return time.Duration(r.P50Us) * time.Microsecond }
func (r wrkResult) p99() time.Duration { return time.Duration(r.P99Us) * time.Microsecond }
func (r wrkResult) cpu() time.Duration { return time.Duration(r.CPUPerReq * float64(time.Second)) }
func (r wrkResult) String() string {
	return fmt.Sprintf("%.0f req/s, p50 %s, p99 %s, server CPU %s/req", r.rate(),
		r.p50().Round(10*time.Microsecond), r.p99().Round(10*time.Microsecond), r.cpu().Round(time.Microsecond))
}

// runWrk loads base with wrk going round paths, connections at once, for d, and measures
// the CPU time the server process pid spent meanwhile. With gzip, the requests say
// Accept-Encoding: gzip, as most HTTP clients do.
func runWrk(ctx context.Context, dir, base string, paths []string, connections int, d time.Duration, pid int, gzip bool) (wrkResult, error) {
	script, list := filepath.Join(dir, "rotate.lua"), filepath.Join(dir, "paths.txt")
	if err := os.WriteFile(script, []byte(rotateScript), 0o644); err != nil {
		return wrkResult{}, err
	}
	if err := os.WriteFile(list, []byte(strings.Join(paths, "\n")+"\n"), 0o644); err != nil {
		return wrkResult{}, err
	}
	cpu0, err := benchstack.CPUSeconds(pid)
	if err != nil {
		return wrkResult{}, err
	}
	args := []string{"-t", "2", "-c", strconv.Itoa(connections), "-d", d.String(), "-s", script}
	if gzip {
		args = append(args, "-H", "Accept-Encoding: gzip")
	}
	out, err := exec.CommandContext(ctx, "wrk", append(args, base, "--", list)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	cpu1, err := benchstack.CPUSeconds(pid)
	if err != nil {
		return wrkResult{}, err
	}
	var r wrkResult
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "SUMMARY "); ok {
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return wrkResult{}, err
			}
		}
	}
	if r.Requests == 0 {
		return wrkResult{}, fmt.Errorf("wrk sent no request: %s", out)
	}
	if r.Errors > 0 {
		return wrkResult{}, fmt.Errorf("wrk: %d errors of %d requests: %s", r.Errors, r.Requests, out)
	}
	r.CPUPerReq = (cpu1 - cpu0) / float64(r.Requests)
	return r, nil
}
