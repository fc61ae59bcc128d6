package devstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

	binDir string
	// temporal serves Temporal: the dev server, or the cluster's nodes and then its UI.
	temporal      []*child
	temporalProxy *TCPProxy // cluster mode: the nodes' frontends behind TemporalAddress
	services      []*child
	// replicas are each service's processes by service name; serviceProxies, with
	// Replicas > 1, put them behind the services' public ports (replicas.go).
	replicas       map[string][]Replica
	serviceProxies []*TCPProxy
	fakes          []*child
	failed         chan error
	backoff        backoff
	// ctx ends when the stack stops: it bounds the supervisors' waits.
	ctx         context.Context
	cancel      context.CancelFunc
	supervisors sync.WaitGroup
	stopping    atomic.Bool
	stopOnce    sync.Once
	stopErr     error
}

// Start builds and starts everything, and returns once every service is ready. On error
// it stops what it had started. ctx bounds the start only; the stack runs until Stop.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	return startWith(ctx, opts, (*Stack).start)
}

// startWith resolves opts and runs start on a new stack, which it stops if start fails.
func startWith(ctx context.Context, opts Options, start func(*Stack, context.Context) error) (*Stack, error) {
	if err := opts.resolve(); err != nil {
		return nil, err
	}
	s := newStack(opts)
	if err := start(s, ctx); err != nil {
		if stopErr := s.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		return nil, err
	}
	return s, nil
}

func newStack(opts Options) *Stack {
	s := &Stack{
		Options:   opts,
		Endpoints: opts.Endpoints(),
		binDir:    filepath.Join(opts.StateDir, "bin"),
		failed:    make(chan error, 1),
		backoff:   defaultBackoff,
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

func (s *Stack) start(ctx context.Context) error {
	o := s.Options
	if err := s.makeDirs(); err != nil {
		return err
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
	if err := s.launchTemporal(ctx); err != nil {
		return err
	}
	// Building overlaps with Temporal's boot.
	if err := s.buildServices(ctx); err != nil {
		return err
	}
	if err := s.awaitTemporal(ctx); err != nil {
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
	if err := s.planReplicas(); err != nil {
		return err
	}
	// Intake first and alone: the others fetch its dev JWKS and service tokens.
	if err := s.startServices(ctx, services[:1]); err != nil {
		return err
	}
	return s.startServices(ctx, services[1:])
}

// waitTemporal waits for the dev server's frontend and UI, and completes the search attributes.
func (s *Stack) waitTemporal(ctx context.Context, server *process) error {
	c, err := dialTemporal(ctx, s.Options, server, s.Options.TemporalAddress)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := ensureSearchAttributes(ctx, c, s.Options.TemporalNamespace); err != nil {
		return err
	}
	return waitHTTP(ctx, s.Endpoints.TemporalUI, 0, server)
}

func (s *Stack) logDir() string { return filepath.Join(s.Options.StateDir, "logs") }

func (s *Stack) makeDirs() error {
	for _, dir := range []string{s.binDir, s.Options.ToolsDir, s.logDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// logf writes a line of progress; supervisors write from their own goroutines, and the
// children's lines may go to the same terminal, hence the lock.
func (s *Stack) logf(format string, args ...any) {
	outputMu.Lock()
	defer outputMu.Unlock()
	fmt.Fprintf(s.Options.Log, "devstack: "+format+"\n", args...)
}

// checkPortsFree turns "address already in use" deep in a child's log into one clear line.
func (s *Stack) checkPortsFree() error {
	addrs := s.Options.temporalAddrs()
	for _, pv := range portVars {
		addrs[pv.env] = "127.0.0.1:" + strconv.Itoa(*pv.port(&s.Options.Ports))
	}
	return checkFree(addrs)
}

// checkFree fails naming the first address of addrs (by name) that is in use.
func checkFree(addrs map[string]string) error {
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
	p, err := s.launch("ref-"+args[0], s.bin("referential"), s.Options.childEnv(os.Environ()), false, args...)
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
	var started []*child
	for _, svc := range svcs {
		replicas, err := s.startReplicas(svc)
		if err != nil {
			return err
		}
		started = append(started, replicas...)
	}
	for _, c := range started {
		if err := s.awaitChild(ctx, c); err != nil {
			return err
		}
		s.logf("%s is ready", c.name)
	}
	return nil
}

// startFakes starts the Graph emulator and the SMTP sink and waits until they answer.
func (s *Stack) startFakes(ctx context.Context) error {
	env := s.Options.fakeEnv(os.Environ())
	s.fakes = []*child{
		s.newChild("graphemu", s.bin("graphemu"), env, nil, s.waitGraph),
		s.newChild("smtpsink", s.bin("smtpsink"), env, nil, func(ctx context.Context, p *process) error {
			return waitHTTP(ctx, s.Endpoints.Mail+"/messages", http.StatusOK, p)
		}),
	}
	for _, c := range s.fakes {
		if err := s.launchChild(c); err != nil {
			return err
		}
	}
	for _, c := range s.fakes {
		if err := s.awaitChild(ctx, c); err != nil {
			return err
		}
	}
	s.logf("Graph emulator on %s, SMTP sink on 127.0.0.1:%d (mail at %s/messages)", s.Endpoints.Graph, s.Options.Ports.SMTP, s.Endpoints.Mail)
	return nil
}

// waitGraph waits until the emulator answers over HTTPS with the certificate in the file
// the services trust (GRAPH_CA_FILE): a certificate left by a previous run does not do.
func (s *Stack) waitGraph(ctx context.Context, p *process) error {
	url := s.Endpoints.Graph + "/common/discovery/instance"
	return waitFor(ctx, p, url, func(ctx context.Context) error {
		client, err := clientTrusting(s.Options.graphCertFile())
		if err != nil {
			return err
		}
		return get(ctx, client, url, http.StatusOK)
	})
}

// clientTrusting is an HTTP client that trusts the certificates in a PEM file only.
func clientTrusting(pemFile string) (*http.Client, error) {
	b, err := os.ReadFile(pemFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("no certificate in %s", pemFile)
	}
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true, // one client per attempt: no idle connection to keep
	}}, nil
}

func (s *Stack) bin(name string) string { return filepath.Join(s.binDir, name) }

// launch starts a process logged in <StateDir>/logs/<name>.log.
func (s *Stack) launch(name, bin string, env []string, restart bool, args ...string) (*process, error) {
	return startProcess(name, filepath.Join(s.logDir(), name+".log"), restart, s.Options.ChildOutput, env, bin, args...)
}

// newChild is a member of the stack run from bin, ready when ready says so.
func (s *Stack) newChild(name, bin string, env, args []string, ready func(context.Context, *process) error) *child {
	return &child{
		name:  name,
		start: func(restart bool) (*process, error) { return s.launch(name, bin, env, restart, args...) },
		ready: ready,
	}
}

// launchChild starts c for the first time. Without RestartCrashed, an exit of its own is
// reported on Failed.
func (s *Stack) launchChild(c *child) error {
	p, err := c.start(false)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.proc = p
	c.mu.Unlock()
	if !s.Options.RestartCrashed {
		s.watch(p)
	}
	return nil
}

// awaitChild waits until c's process is ready, within ReadyTimeout. With RestartCrashed, c
// is restarted whenever it exits from then on; an exit before it is ready is the caller's
// error to report.
func (s *Stack) awaitChild(ctx context.Context, c *child) error {
	ctx, cancel := context.WithTimeout(ctx, s.Options.ReadyTimeout)
	defer cancel()
	p := c.current()
	if err := c.ready(ctx, p); err != nil {
		return err
	}
	if s.Options.RestartCrashed {
		s.supervise(c, p)
	}
	return nil
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

// Kill stops a member of the stack (a service, or with Replicas > 1 one of its replicas
// such as "intake-2"; "graphemu", "smtpsink", "temporal", or in
// cluster mode "temporal-1", "temporal-2" or "temporal-ui") at once with SIGKILL, as a crash would, and leaves it down until Restart (tests of recovery).
func (s *Stack) Kill(name string) error {
	c, err := s.child(name)
	if err != nil {
		return err
	}
	p := c.current()
	p.killed.Store(true)
	p.signal(syscall.SIGKILL)
	<-p.done
	return nil
}

// Restart starts a killed or stopped member of the stack again and waits until it is ready.
func (s *Stack) Restart(ctx context.Context, name string) error {
	c, err := s.child(name)
	if err != nil {
		return err
	}
	p, err := s.replace(c, c.current())
	if err != nil {
		return err
	}
	if !s.Options.RestartCrashed {
		s.watch(p)
	}
	if err := s.awaitChild(ctx, c); err != nil {
		return err
	}
	s.logf("%s is ready", c.name)
	return nil
}

// child finds a started member of the stack by name.
func (s *Stack) child(name string) (*child, error) {
	all := slices.Concat(s.temporal, s.fakes, s.services)
	for _, c := range all {
		if c != nil && c.name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no member of the stack named %q", name)
}

// Failed receives an error when Temporal, a stand-in or a service exits on its own, unless
// RestartCrashed, which restarts it instead.
func (s *Stack) Failed() <-chan error { return s.failed }

// Stop stops the services (SIGTERM, then SIGKILL after StopTimeout), then the stand-ins,
// then Temporal, which they depend on until their last moment. It is safe to call more than once.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		// Before reading the processes: a supervisor restarts nothing after this.
		s.stopping.Store(true)
		s.cancel()
		// The members of a group are stopped together, each group after the ones that
		// depend on it.
		stopAll := func(cs []*child) []error {
			errs := make([]error, len(cs))
			var wg sync.WaitGroup
			for i, c := range cs {
				wg.Go(func() {
					if p := c.current(); p != nil {
						errs[i] = p.stop(s.Options.StopTimeout)
					}
				})
			}
			wg.Wait()
			return errs
		}
		errs := stopAll(s.services)
		for _, proxy := range s.serviceProxies {
			errs = append(errs, proxy.Close())
		}
		errs = append(errs, stopAll(s.fakes)...)
		errs = append(errs, stopAll(s.temporal)...)
		if s.temporalProxy != nil {
			errs = append(errs, s.temporalProxy.Close())
		}
		s.supervisors.Wait()
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// waitHTTP polls url until it answers with wantStatus (any status when 0), the process
// exits, or ctx ends.
func waitHTTP(ctx context.Context, url string, wantStatus int, p *process) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return waitFor(ctx, p, url, func(ctx context.Context) error { return get(ctx, client, url, wantStatus) })
}

// get asks for url and wants wantStatus (any status when 0).
func get(ctx context.Context, client *http.Client, url string, wantStatus int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if wantStatus != 0 && resp.StatusCode != wantStatus {
		return errors.New(resp.Status)
	}
	return nil
}

// waitFor polls check until it succeeds, p exits, or ctx ends; what names what is awaited.
func waitFor(ctx context.Context, p *process, what string, check func(context.Context) error) error {
	// A check in flight gives up when p exits, rather than wait for its own timeout.
	checkCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-checkCtx.Done():
		}
	}()
	var last error
	for {
		err := check(checkCtx)
		if err == nil {
			return nil
		}
		// A check cut short by the deadline says less than the one before it.
		if last == nil || checkCtx.Err() == nil {
			last = err
		}
		select {
		case <-p.done:
			return p.failure("exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("%s: %s not ready (last answer: %v); last lines of %s:\n%s", p.name, what, last, p.logPath, tail(p.logPath, 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
