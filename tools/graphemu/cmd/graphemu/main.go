// Command graphemu serves the Microsoft Graph emulator over TLS.
//
// Environment: GRAPH_EMULATOR_ADDR (default 127.0.0.1:8090), GRAPH_EMULATOR_CERT_FILE (where
// to write the PEM certificate clients must trust, i.e. their GRAPH_CA_FILE; default
// graphemu-cert.pem in the temporary directory), GRAPH_EMULATOR_KEY_FILE (where to keep its
// key, so that a restart reuses the certificate; default: none, a new certificate each
// start), GRAPH_EMULATOR_STATE_FILE (where teams, channels, messages, subscriptions and
// tokens are kept across restarts; default: none, the state lives in memory only),
// GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET (the credentials it accepts),
// GRAPH_TEAM_IDS (comma-separated teams it hosts, default rome-team), GRAPH_APP_SERVICE_PRINCIPAL_ID
// and GRAPH_APP_ROLES (the application's service principal and its app roles as
// partner=<uuid>,moderator=<uuid>,admin=<uuid>; defaults graphemu.DefaultServicePrincipalID and
// graphemu.DefaultAppRoles), ENTRA_MODERATORS_GROUP_ID and ENTRA_ADMINS_GROUP_ID (groups it
// creates empty at start, for the platform's group synchronisation).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/plateforme-rome/rome/tools/graphemu"
)

func main() {
	if err := run(); err != nil {
		slog.Error("graphemu", "error", err)
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run() error {
	addr := env("GRAPH_EMULATOR_ADDR", "127.0.0.1:8090")
	certFile := env("GRAPH_EMULATOR_CERT_FILE", filepath.Join(os.TempDir(), "graphemu-cert.pem"))
	var teams []string
	for t := range strings.SplitSeq(env("GRAPH_TEAM_IDS", graphemu.DefaultTeamID), ",") {
		if t = strings.TrimSpace(t); t != "" {
			teams = append(teams, t)
		}
	}
	cfg := graphemu.Config{
		TenantID:     env("GRAPH_TENANT_ID", graphemu.DefaultTenantID),
		ClientID:     env("GRAPH_CLIENT_ID", graphemu.DefaultClientID),
		ClientSecret: env("GRAPH_CLIENT_SECRET", graphemu.DefaultClientSecret),
		Teams:        teams,
		// The same variables as the platform's, so that one environment configures both.
		ServicePrincipalID: env("GRAPH_APP_SERVICE_PRINCIPAL_ID", graphemu.DefaultServicePrincipalID),
	}
	roles, err := graphemu.ParseAppRoles(env("GRAPH_APP_ROLES", graphemu.DefaultAppRoles))
	if err != nil {
		return fmt.Errorf("GRAPH_APP_ROLES: %w", err)
	}
	cfg.AppRoles = roles
	stateFile := os.Getenv("GRAPH_EMULATOR_STATE_FILE")
	emu, err := newEmulator(cfg, stateFile)
	if err != nil {
		return err
	}
	// The groups the platform synchronises exist from the start, empty.
	for _, key := range []string{"ENTRA_MODERATORS_GROUP_ID", "ENTRA_ADMINS_GROUP_ID"} {
		if id := os.Getenv(key); id != "" {
			emu.EnsureGroup(id)
		}
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, _, err := net.SplitHostPort(addr); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	cert, err := certificate(certFile, os.Getenv("GRAPH_EMULATOR_KEY_FILE"), hosts)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           emu,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServeTLS("", "") }()
	slog.Info("graphemu: listening", "url", "https://"+addr, "certFile", certFile, "teams", teams, "stateFile", stateFile)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	emu.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// certificate reuses the certificate kept with its key in keyFile, or makes a new one each
// start when there is no key file.
func certificate(certFile, keyFile string, hosts []string) (tls.Certificate, error) {
	if keyFile != "" {
		return graphemu.CertificateFiles(certFile, keyFile, hosts...)
	}
	cert, certPEM, err := graphemu.SelfSignedCertificate(hosts...)
	if err != nil {
		return tls.Certificate{}, err
	}
	return cert, os.WriteFile(certFile, certPEM, 0o644)
}

func newEmulator(cfg graphemu.Config, stateFile string) (*graphemu.Emulator, error) {
	if stateFile == "" {
		return graphemu.New(cfg), nil
	}
	return graphemu.NewPersistent(cfg, stateFile)
}
