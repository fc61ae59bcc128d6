package groupsyncstart

import (
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/workflows/groupsync"
)

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("ENTRA_MODERATORS_GROUP_ID", "")
	t.Setenv("ENTRA_ADMINS_GROUP_ID", "")
	t.Setenv("ENTRA_SYNC_INTERVAL", "")
	if cfg, err := ConfigFromEnv(); err != nil || len(cfg.Groups) != 0 || cfg.Interval != groupsync.DefaultInterval {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	t.Setenv("ENTRA_ADMINS_GROUP_ID", "g-admins")
	t.Setenv("ENTRA_MODERATORS_GROUP_ID", "g-moderators")
	t.Setenv("ENTRA_SYNC_INTERVAL", "30s")
	cfg, err := ConfigFromEnv()
	want := []groupsync.Group{{Role: "moderator", ID: "g-moderators"}, {Role: "admin", ID: "g-admins"}}
	if err != nil || len(cfg.Groups) != 2 || cfg.Groups[0] != want[0] || cfg.Groups[1] != want[1] || cfg.Interval != 30*time.Second {
		t.Fatalf("configured: %+v %v", cfg, err)
	}
	for _, bad := range []string{"10ms", "soon"} {
		t.Setenv("ENTRA_SYNC_INTERVAL", bad)
		if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "ENTRA_SYNC_INTERVAL") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
