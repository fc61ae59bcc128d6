package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/plateforme-rome/rome/tools/devstack"
	"github.com/plateforme-rome/rome/tools/loadtest/benchstack"
)

// postgresAdmin is where the import scenario creates its scratch databases.
var postgresAdmin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// newImport compares `referential import` of the official release, into PostgreSQL and into
// SQLite, with copyloader's bare COPY into PostgreSQL. Each phase loads into a new database.
func newImport(ctx context.Context, stack *benchstack.Stack, _ phaseTimes) ([]comparison, func(), error) {
	data := stack.Options.DataDir
	if data == "" {
		return nil, nil, fmt.Errorf("no ROME release to import (ROME_DATA_DIR)")
	}
	dir, err := os.MkdirTemp("", "rome-sidebyside-import-")
	if err != nil {
		return nil, nil, err
	}
	root, err := devstack.FindRepoRoot(".")
	if err != nil {
		return nil, nil, err
	}
	platformRoot := stack.Options.RepoRoot
	copyloader, referential := filepath.Join(dir, "copyloader"), filepath.Join(dir, "referential")
	for _, b := range []struct{ root, out, pkg string }{
		{root, copyloader, "./tools/loadtest/cmd/copyloader"},
		{platformRoot, referential, "./services/referential/cmd/referential"},
	} {
		build := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg)
		build.Dir = b.root
		if out, err := build.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, nil, fmt.Errorf("build %s: %w: %s", b.pkg, err, out)
		}
	}
	seq := 0
	timed := func(cmd func(scratch string) *exec.Cmd, postgres bool) func(context.Context) (sample, error) {
		return func(ctx context.Context) (sample, error) {
			seq++
			scratch := filepath.Join(dir, "state-"+strconv.Itoa(seq))
			if postgres {
				name := fmt.Sprintf("rome_sidebyside_%d_%d", os.Getpid(), seq)
				url, drop, err := scratchDatabase(ctx, name)
				if err != nil {
					return sample{}, err
				}
				defer drop()
				scratch = url
			}
			c := cmd(scratch)
			start := time.Now()
			if out, err := c.CombinedOutput(); err != nil {
				return sample{}, fmt.Errorf("%s: %w: %s", c.Path, err, out)
			}
			return sample{took: time.Since(start)}, nil
		}
	}
	floor := timed(func(url string) *exec.Cmd { return exec.Command(copyloader, "-database-url", url, data) }, true)
	importer := func(env func(string) []string) func(string) *exec.Cmd {
		return func(scratch string) *exec.Cmd {
			c := exec.Command(referential, "import", data)
			c.Env = append(os.Environ(), env(scratch)...)
			return c
		}
	}
	cs := []comparison{
		{what: "import v460 into PostgreSQL", floor: floor, platform: timed(importer(func(url string) []string { return []string{"DATABASE_URL=" + url} }), true)},
		{what: "import v460 into SQLite (floor: PostgreSQL's)", floor: floor, platform: timed(importer(func(state string) []string { return []string{"DATABASE_URL=", "ROME_STATE_DIR=" + state} }), false)},
	}
	return cs, func() { os.RemoveAll(dir) }, nil
}

// scratchDatabase creates an empty database and returns its URL and how to drop it.
func scratchDatabase(ctx context.Context, name string) (string, func(), error) {
	admin, err := pgx.Connect(ctx, postgresAdmin)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		admin.Close(ctx)
		return "", nil, err
	}
	cfg := admin.Config()
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	return url, func() {
		admin.Exec(context.Background(), "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		admin.Close(context.Background())
	}, nil
}
