package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"
)

// CheckTimeout bounds each readiness check.
const CheckTimeout = 2 * time.Second

// Check is one named readiness dependency.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Health registers GET /healthz (the process serves) and GET /readyz (every
// check passes, run concurrently, each within CheckTimeout). A failing
// readiness answer is a 503 problem whose "checks" member says which
// dependency failed; the causes go to the log, not to the caller.
func Health(r *gin.Engine, checks ...Check) {
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET("/readyz", func(c *gin.Context) {
		results := make(map[string]string, len(checks))
		failed := false
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, chk := range checks {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(c.Request.Context(), CheckTimeout)
				defer cancel()
				err := chk.Run(ctx)
				state := "ok"
				if err != nil {
					state = "failing"
					if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
						state = "timeout"
					}
					slog.WarnContext(c.Request.Context(), "readiness check failed", "check", chk.Name, "error", err)
				}
				mu.Lock()
				defer mu.Unlock()
				results[chk.Name] = state
				failed = failed || err != nil
			})
		}
		wg.Wait()
		if failed {
			WriteProblem(c, NewProblem(http.StatusServiceUnavailable, "not_ready",
				"A dependency of this service is unavailable.").With("checks", results))
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": results})
	})
}

// DBCheck pings the database.
func DBCheck(db *gorm.DB) Check {
	return Check{Name: "database", Run: func(ctx context.Context) error {
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		return sqlDB.PingContext(ctx)
	}}
}

// TemporalCheck asks the Temporal frontend for its health.
func TemporalCheck(c client.Client) Check {
	return Check{Name: "temporal", Run: func(ctx context.Context) error {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}}
}
