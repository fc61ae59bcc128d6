// Package groupsyncstart configures the Entra group synchronisation (package groupsync)
// from the worker's environment and starts it, or hands the running one its configuration.
package groupsyncstart

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/workflows/groupsync"
)

// ConfigFromEnv reads ENTRA_MODERATORS_GROUP_ID and ENTRA_ADMINS_GROUP_ID (the Entra groups
// whose members are the platform's moderators and admins; either may be empty) and
// ENTRA_SYNC_INTERVAL (how often they are read, default groupsync.DefaultInterval).
func ConfigFromEnv() (groupsync.Config, error) {
	var cfg groupsync.Config
	for _, g := range []struct{ env, role string }{{"ENTRA_MODERATORS_GROUP_ID", "moderator"}, {"ENTRA_ADMINS_GROUP_ID", "admin"}} {
		if id := config.String(g.env, ""); id != "" {
			cfg.Groups = append(cfg.Groups, groupsync.Group{Role: g.role, ID: id})
		}
	}
	interval, err := config.Duration("ENTRA_SYNC_INTERVAL", groupsync.DefaultInterval)
	if err != nil {
		return groupsync.Config{}, err
	}
	if interval < time.Second {
		return groupsync.Config{}, fmt.Errorf("ENTRA_SYNC_INTERVAL=%s: must be a second or more", interval)
	}
	cfg.Interval = interval
	return cfg, nil
}

// Ensure has the synchronisation run with cfg: it signals the running workflow its
// configuration, or starts it with it. Without groups there is nothing to synchronise.
func Ensure(ctx context.Context, c client.Client, cfg groupsync.Config, taskQueue string, log *slog.Logger) error {
	if len(cfg.Groups) == 0 {
		return nil
	}
	_, err := c.SignalWithStartWorkflow(ctx, groupsync.WorkflowID, groupsync.SignalConfigure, cfg, client.StartWorkflowOptions{
		ID:                    groupsync.WorkflowID,
		TaskQueue:             taskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         "Synchronises the Entra groups of the moderators and admins into the directory",
	}, groupsync.WorkflowType, groupsync.Input{Config: cfg})
	if err != nil {
		return fmt.Errorf("entra group sync: %w", err)
	}
	log.Info("entra group sync configured", "groups", cfg.Groups, "interval", cfg.Interval)
	return nil
}
