package service

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/httpx"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestRunServesAndStops(t *testing.T) {
	state := t.TempDir()
	port := freePort(t)
	t.Setenv("ROME_STATE_DIR", state)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("ROME_DEV_MODE", "true")
	t.Setenv("LISTEN_HOST", "")
	t.Setenv("SHELL_TEST_PORT", strconv.Itoa(port))
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:"+strconv.Itoa(freePort(t))) // nothing listens there

	migrated := false
	spec := Spec{
		Name: "shelltest", PortEnv: "SHELL_TEST_PORT", DefaultPort: 1, Temporal: true,
		Migrations: []database.Migration{{Version: 1, Name: "init", Up: func(tx *gorm.DB, d database.Dialect) error {
			migrated = true
			return tx.Exec("CREATE TABLE things (id INTEGER PRIMARY KEY)").Error
		}}},
		Router: func(ctx context.Context, rt *Runtime) (http.Handler, error) {
			if rt.Temporal == nil || rt.DB == nil || !rt.DevMode || rt.Dialect != database.SQLite {
				t.Errorf("runtime incomplete: %+v", rt)
			}
			r := httpx.NewEngine(rt.Name)
			httpx.Health(r, rt.Checks()...)
			r.GET("/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
			return r, nil
		},
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, spec) }()

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	var res *http.Response
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err = http.Get(base + "/healthz"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("service never answered: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("healthz = %d", res.StatusCode)
	}

	res, err = http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Code   string            `json:"code"`
		Checks map[string]string `json:"checks"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 503 || body.Checks["database"] != "ok" || body.Checks["temporal"] == "ok" {
		t.Fatalf("readyz without Temporal = %d %+v", res.StatusCode, body)
	}
	if !migrated {
		t.Fatal("migrations did not run before serving")
	}
	if _, err := os.Stat(filepath.Join(state, "shelltest.db")); err != nil {
		t.Fatalf("SQLite file not in the state dir: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("graceful stop returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("service did not stop")
	}
}

// Migrate (a deployment's migration Job) brings the database up to date and serves nothing.
func TestMigrateOnly(t *testing.T) {
	state := t.TempDir()
	t.Setenv("ROME_STATE_DIR", state)
	t.Setenv("DATABASE_URL", "")
	runs := 0
	spec := Spec{Name: "migratetest", Migrations: []database.Migration{{Version: 1, Name: "init", Up: func(tx *gorm.DB, d database.Dialect) error {
		runs++
		return tx.Exec("CREATE TABLE things (id INTEGER PRIMARY KEY)").Error
	}}}}
	for range 2 { // the second run finds nothing to do
		if err := Migrate(t.Context(), spec); err != nil {
			t.Fatal(err)
		}
	}
	if runs != 1 {
		t.Fatalf("the migration ran %d times", runs)
	}
	if _, err := os.Stat(filepath.Join(state, "migratetest.db")); err != nil {
		t.Fatalf("SQLite file not in the state dir: %v", err)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Setenv("SHELL_TEST_PORT", "eighty")
	err := Run(t.Context(), Spec{Name: "shelltest", PortEnv: "SHELL_TEST_PORT", DefaultPort: 1})
	if err == nil {
		t.Fatal("an unparsable port was accepted")
	}
}
