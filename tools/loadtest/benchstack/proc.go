package benchstack

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// CPUSeconds is the user and system CPU time process pid has used (/proc/<pid>/stat).
func CPUSeconds(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields count from the closing parenthesis.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, raw)
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return (utime + stime) / ticksPerSecond, nil
}

// PID is the newest process named name (a member of the stack is named after its binary).
func PID(name string) (int, error) {
	out, err := exec.Command("pgrep", "-n", "-x", name).Output()
	if err != nil {
		return 0, fmt.Errorf("no %s process: %w", name, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}

// RSS is the resident memory of process pid, in MB, or -1 when unknown.
func RSS(pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb / 1024
		}
	}
	return -1
}

// RSSOf is the resident memory of the newest process named name, in MB, or -1 when unknown.
func RSSOf(name string) int {
	pid, err := PID(name)
	if err != nil {
		return -1
	}
	return RSS(pid)
}
