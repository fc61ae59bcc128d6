package devstack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// process is a child of the stack. Its output goes to its log file and, prefixed with its
// name, to the stack's ChildOutput.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	out     *prefixWriter // nil without ChildOutput
	done    chan struct{} // closed once the process has exited
	err     error         // the exit status, set before done is closed
	started time.Time     // when it was started
	uptime  time.Duration // how long it ran, set before done is closed
	killed  atomic.Bool   // stopped on purpose (Stack.Kill): its exit is no failure
}

// outputMu serialises lines written by all children, so they never interleave mid-line.
var outputMu sync.Mutex

// startProcess starts bin with its output in logPath, which it empties unless appendLog
// (a restart: the end of the previous run, where a crash is explained, stays there). The
// child gets its own process group, so a Ctrl-C in the terminal reaches only devstack,
// which then stops children in order.
func startProcess(name, logPath string, appendLog bool, childOutput io.Writer, env []string, bin string, args ...string) (*process, error) {
	logFile, err := openLog(logPath, appendLog)
	if err != nil {
		return nil, err
	}
	p := &process{name: name, logPath: logPath, done: make(chan struct{})}
	var out io.Writer = logFile
	if childOutput != nil {
		p.out = &prefixWriter{w: childOutput, prefix: fmt.Sprintf("%-13s | ", name)}
		out = io.MultiWriter(logFile, p.out)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout = out
	p.cmd.Stderr = out
	p.cmd.SysProcAttr = childSysProcAttr()
	// A grandchild holding the pipe open must not block Wait forever.
	p.cmd.WaitDelay = 5 * time.Second
	started := make(chan error)
	go func() {
		// Pdeathsig fires when the thread that forked the child exits: keep that thread
		// for this goroutine, which lives as long as the child.
		runtime.LockOSThread()
		p.started = time.Now()
		if err := p.cmd.Start(); err != nil {
			logFile.Close()
			started <- fmt.Errorf("start %s: %w", name, err)
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		p.uptime = time.Since(p.started)
		if p.out != nil {
			p.out.flush()
		}
		logFile.Close()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

func openLog(path string, appendLog bool) (*os.File, error) {
	if !appendLog {
		return os.Create(path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(f, "\n%s%s ---\n", restartMarker, time.Now().Format(time.RFC3339)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the child's whole process group.
func (p *process) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// stop sends SIGTERM, waits up to timeout, then SIGKILL. It reports a kill as an error.
// Shutdown chatter goes to the log file only.
func (p *process) stop(timeout time.Duration) error {
	if p.exited() {
		return nil
	}
	if p.out != nil {
		p.out.muted.Store(true)
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
	}
	p.signal(syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("%s ignored SIGTERM for %s and was killed", p.name, timeout)
}

// wait waits for the child to exit, stopping it if ctx ends first.
func (p *process) wait(ctx context.Context, stopTimeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		_ = p.stop(stopTimeout)
		return ctx.Err()
	}
}

// failure describes an exit with the end of the child's log, where the reason usually is.
func (p *process) failure(what string) error {
	status := "exit status 0"
	if p.err != nil {
		status = p.err.Error()
	}
	return fmt.Errorf("%s %s (%s); last lines of %s:\n%s", p.name, what, status, p.logPath, tail(p.logPath, 20))
}

// restartMarker starts the line a restart writes in the log (openLog).
const restartMarker = "--- restarted by devstack at "

// tail returns the last n lines of a log file, from its last run only.
func tail(path string, n int) string {
	const maxRead = 16 << 10
	f, err := os.Open(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxRead {
		_, _ = f.Seek(-maxRead, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	run := string(b)
	if i := strings.LastIndex(run, restartMarker); i >= 0 {
		_, run, _ = strings.Cut(run[i:], "\n")
	}
	lines := strings.Split(strings.TrimRight(run, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// prefixWriter writes whole lines, each starting with prefix.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
	muted  atomic.Bool
}

// maxLine bounds what a child that never writes a newline can make us buffer.
const maxLine = 64 << 10

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.emit(p.buf[:i+1])
		p.buf = p.buf[i+1:]
	}
	if len(p.buf) > maxLine {
		p.flush()
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.emit(append(p.buf, '\n'))
		p.buf = nil
	}
}

func (p *prefixWriter) emit(line []byte) {
	if p.muted.Load() {
		return
	}
	outputMu.Lock()
	defer outputMu.Unlock()
	_, _ = io.WriteString(p.w, p.prefix)
	_, _ = p.w.Write(line)
}
