package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Stack is a running dev stack.
type Stack struct {
	Options   Options // resolved
	Endpoints Endpoints

	binDir   string
	temporal *process
	services []*process
	fakes    []*process
	failed   chan error
	stopping atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

// Start builds and starts everything, and returns once every service is ready. On error
// it stops what it had started. ctx bounds the start only; the stack runs until Stop.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if err := opts.resolve(); err != nil {
		return nil, err
	}
	s := &Stack{
		Options:   opts,
		Endpoints: opts.Endpoints(),
		binDir:    filepath.Join(opts.StateDir, "bin"),
		failed:    make(chan error, 1),
	}
	if err := s.start(ctx); err != nil {
		if stopErr := s.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		return nil, err
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	o := s.Options
	for _, dir := range []string{s.binDir, o.ToolsDir, s.logDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	// Fast checks first, before minutes of building.
	if err := s.checkPortsFree(); err != nil {
		return err
	}
	if o.DatabaseURL != "" {
		if err := checkPostgres(ctx, o.DatabaseURL); err != nil {
			return err
		}
	}
	temporalBin, err := ensureTemporalCLI(ctx, o.ToolsDir, s.logf)
	if err != nil {
		return err
	}
	s.logf("starting Temporal dev server on %s (UI %s, state in %s)", o.TemporalAddress, s.Endpoints.TemporalUI, filepath.Join(o.StateDir, "temporal.db"))
	if s.temporal, err = s.launch("temporal", temporalBin, os.Environ(), o.temporalServerArgs()...); err != nil {
		return err
	}
	s.watch(s.temporal)
	// Building overlaps with Temporal's boot.
	if err := s.buildServices(ctx); err != nil {
		return err
	}
	if err := s.waitTemporal(ctx); err != nil {
		return err
	}

	if err := s.runReferential(ctx, "migrate"); err != nil {
		return err
	}
	if o.DataDir == "" {
		s.logf("WARNING: no ROME data directory (set ROME_DATA_DIR, or put the export in ../shared/data/rome4): the referential starts empty")
	} else if err := s.runReferential(ctx, "import", "--if-empty", o.DataDir); err != nil {
		return err
	}

	if err := s.startFakes(ctx); err != nil {
		return err
	}
	// Intake first and alone: the others fetch its dev JWKS and service tokens.
	if err := s.startServices(ctx, services[:1]); err != nil {
		return err
	}
	return s.startServices(ctx, services[1:])
}

// waitTemporal waits for the dev server's frontend and UI, and completes the search attributes.
func (s *Stack) waitTemporal(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.Options.ReadyTimeout)
	defer cancel()
	c, err := dialTemporal(ctx, s.Options, s.temporal)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := ensureSearchAttributes(ctx, c, s.Options.TemporalNamespace); err != nil {
		return err
	}
	return waitHTTP(ctx, s.Endpoints.TemporalUI, 0, s.temporal)
}

func (s *Stack) logDir() string { return filepath.Join(s.Options.StateDir, "logs") }

func (s *Stack) logf(format string, args ...any) {
	fmt.Fprintf(s.Options.Log, "devstack: "+format+"\n", args...)
}

// checkPortsFree turns "address already in use" deep in a child's log into one clear line.
func (s *Stack) checkPortsFree() error {
	addrs := map[string]string{"TEMPORAL_ADDRESS": s.Options.TemporalAddress}
	for _, pv := range portVars {
		addrs[pv.env] = "127.0.0.1:" + strconv.Itoa(*pv.port(&s.Options.Ports))
	}
	for env, addr := range addrs {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s (%s) is already in use: is another dev stack running? (%w)", addr, env, err)
		}
		l.Close()
	}
	return nil
}

// buildServices builds the console's assets, which its binary embeds, then compiles the
// binaries in one go build, which shares the work.
func (s *Stack) buildServices(ctx context.Context) error {
	if err := s.buildConsoleAssets(ctx); err != nil {
		return err
	}
	s.logf("building the services into %s", s.binDir)
	args := []string{"build", "-o", s.binDir + string(filepath.Separator)}
	for _, svc := range services {
		args = append(args, svc.pkg())
	}
	for _, f := range fakes {
		args = append(args, f.pkg)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = s.Options.RepoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build the services: %w\n%s", err, out)
	}
	return nil
}

// consoleAssetsScript installs the console's front-end packages (npm ci from the lockfile,
// only when it changed) and copies them where the console's binary embeds them.
const consoleAssetsScript = "services/console/web/build.sh"

// buildConsoleAssets runs consoleAssetsScript (make assets). npm is needed the first time
// and whenever the lockfile changes; the script says so, and so does the error.
func (s *Stack) buildConsoleAssets(ctx context.Context) error {
	s.logf("building the console's assets (%s)", consoleAssetsScript)
	cmd := exec.CommandContext(ctx, "bash", consoleAssetsScript)
	cmd.Dir = s.Options.RepoRoot
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	if _, lookErr := exec.LookPath("npm"); lookErr != nil {
		return fmt.Errorf("the console's assets need npm, which is not on PATH (Debian: apt-get install -y npm): %s failed: %w\n%s", consoleAssetsScript, err, out)
	}
	return fmt.Errorf("%s (the console's assets): %w\n%s", consoleAssetsScript, err, out)
}

// runReferential runs a referential subcommand to completion, logged as ref-<subcommand>.
func (s *Stack) runReferential(ctx context.Context, args ...string) error {
	s.logf("referential %s", strings.Join(args, " "))
	p, err := s.launch("ref-"+args[0], s.bin("referential"), s.Options.childEnv(os.Environ()), args...)
	if err != nil {
		return err
	}
	if err := p.wait(ctx, s.Options.StopTimeout); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return p.failure("failed")
	}
	return nil
}

// startServices starts svcs together and waits until each one's /readyz is 200.
func (s *Stack) startServices(ctx context.Context, svcs []service) error {
	ctx, cancel := context.WithTimeout(ctx, s.Options.ReadyTimeout)
	defer cancel()
	started := make([]*process, 0, len(svcs))
	for _, svc := range svcs {
		p, err := s.launch(svc.name, s.bin(svc.name), s.Options.serviceEnv(svc.name, os.Environ()))
		if err != nil {
			return err
		}
		s.services = append(s.services, p)
		s.watch(p)
		started = append(started, p)
	}
	for i, p := range started {
		if err := waitHTTP(ctx, localURL(*svcs[i].port.port(&s.Options.Ports))+"/readyz", http.StatusOK, p); err != nil {
			return err
		}
		s.logf("%s is ready", p.name)
	}
	return nil
}

// startFakes starts the Graph emulator and the SMTP sink and waits until they answer.
func (s *Stack) startFakes(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.Options.ReadyTimeout)
	defer cancel()
	for _, f := range fakes {
		p, err := s.launch(f.name, s.bin(f.name), s.Options.fakeEnv(os.Environ()))
		if err != nil {
			return err
		}
		s.fakes = append(s.fakes, p)
		s.watch(p)
	}
	// The emulator answers over HTTPS with the certificate it writes at start.
	if err := waitFile(ctx, s.Options.graphCertFile(), s.fakes[0]); err != nil {
		return err
	}
	if err := waitHTTP(ctx, s.Endpoints.Mail+"/messages", http.StatusOK, s.fakes[1]); err != nil {
		return err
	}
	s.logf("Graph emulator on %s, SMTP sink on 127.0.0.1:%d (mail at %s/messages)", s.Endpoints.Graph, s.Options.Ports.SMTP, s.Endpoints.Mail)
	return nil
}

// waitFile waits until path exists, the process exits, or ctx ends.
func waitFile(ctx context.Context, path string, p *process) error {
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if p.exited() {
			return p.failure("exited before writing " + path)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not write %s: %w", p.name, path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Stack) bin(name string) string { return filepath.Join(s.binDir, name) }

func (s *Stack) launch(name, bin string, env []string, args ...string) (*process, error) {
	return startProcess(name, filepath.Join(s.logDir(), name+".log"), s.Options.ChildOutput, env, bin, args...)
}

// watch reports p's exit on Failed unless the stack is stopping.
func (s *Stack) watch(p *process) {
	go func() {
		<-p.done
		if s.stopping.Load() || p.killed.Load() {
			return
		}
		select {
		case s.failed <- p.failure("exited unexpectedly"):
		default: // the first failure is enough to stop the stack
		}
	}()
}

// Kill stops a service at once with SIGKILL, as a crash would (tests of recovery).
func (s *Stack) Kill(name string) error {
	i, err := s.serviceIndex(name)
	if err != nil {
		return err
	}
	p := s.services[i]
	p.killed.Store(true)
	p.signal(syscall.SIGKILL)
	<-p.done
	return nil
}

// Restart starts a killed or stopped service again and waits until it is ready.
func (s *Stack) Restart(ctx context.Context, name string) error {
	i, err := s.serviceIndex(name)
	if err != nil {
		return err
	}
	if !s.services[i].exited() {
		return fmt.Errorf("%s is still running", name)
	}
	s.services = slices.Delete(s.services, i, i+1)
	for _, svc := range services {
		if svc.name == name {
			return s.startServices(ctx, []service{svc})
		}
	}
	return fmt.Errorf("unknown service %q", name)
}

func (s *Stack) serviceIndex(name string) (int, error) {
	for i, p := range s.services {
		if p.name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no running service named %q", name)
}

// Failed receives an error when Temporal or a service exits on its own.
func (s *Stack) Failed() <-chan error { return s.failed }

// Stop stops the services (SIGTERM, then SIGKILL after StopTimeout), then Temporal, which
// they depend on until their last moment. It is safe to call more than once.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		errs := make([]error, len(s.services))
		var wg sync.WaitGroup
		for i, p := range s.services {
			wg.Go(func() { errs[i] = p.stop(s.Options.StopTimeout) })
		}
		wg.Wait()
		for _, p := range s.fakes {
			errs = append(errs, p.stop(s.Options.StopTimeout))
		}
		if s.temporal != nil {
			errs = append(errs, s.temporal.stop(s.Options.StopTimeout))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// waitHTTP polls url until it answers with wantStatus (any status when 0), the process
// exits, or ctx ends.
func waitHTTP(ctx context.Context, url string, wantStatus int, p *process) error {
	httpClient := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := httpClient.Do(req); err == nil {
			resp.Body.Close()
			if wantStatus == 0 || resp.StatusCode == wantStatus {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-p.done:
			return p.failure("exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("%s: %s not ready (last answer: %s); last lines of %s:\n%s", p.name, url, last, p.logPath, tail(p.logPath, 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
