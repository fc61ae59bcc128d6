package devstack

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// service is one of the platform's binaries, built from services/<name>/cmd/<name>.
type service struct {
	name   string
	port   portVar
	urlEnv string // how the other services reach its API; "" when none calls it
}

// Intake comes first: it serves the dev JWKS the other services verify tokens with. The
// console calls intake, referential and notifications with the signed-in person's token;
// nothing calls it, but every link to a page is built from its public URL (CONSOLE_URL).
var services = []service{
	{"intake", intakePort, "INTAKE_URL"},
	{"referential", referentialPort, "REFERENTIAL_URL"},
	{"notifications", notificationsPort, "NOTIFICATIONS_URL"},
	{"console", consolePort, ""},
	{"worker", workerPort, ""},
}

func (s service) pkg() string { return "./services/" + s.name + "/cmd/" + s.name }

// Local stand-ins for the platform's external systems, started before the services:
// Microsoft Graph (Teams) and an SMTP server.
var fakes = []struct{ name, pkg string }{
	{"graphemu", "./tools/graphemu/cmd/graphemu"},
	{"smtpsink", "./tools/smtpsink/cmd/smtpsink"},
}

// The Graph emulator's identity (its defaults) and the subscriptions' client state: dev
// values, as the emulator is.
const (
	devGraphTenant      = "rome-tenant"
	devGraphClient      = "rome-platform"
	devGraphSecret      = "rome-dev-secret"
	devGraphTeam        = "rome-team"
	devGraphClientState = "rome-dev-client-state"
	// devGraphOwner owns the private channels: the ROME team's account in dev.
	devGraphOwner = "aad-rome-team"
	// The app's service principal and app roles as the emulator knows them by default
	// (graphemu.DefaultServicePrincipalID and graphemu.DefaultAppRoles): approved access
	// requests are invited as guests and get their app role there.
	devGraphAppServicePrincipal = "6d0f3c2a-41b7-4e58-9a1c-0b7e5f2d8c31"
	devGraphAppRoles            = "partner=0f5b1a7e-2c94-4d3b-8e61-7a2f9c4d1b01,moderator=0f5b1a7e-2c94-4d3b-8e61-7a2f9c4d1b02," +
		"admin=0f5b1a7e-2c94-4d3b-8e61-7a2f9c4d1b03"
)

// The dev stack's payload codec key: histories are encrypted in dev and in the end-to-end
// tests as in production, and stay readable across runs (the key never changes). A dev
// value, as the Graph emulator's secrets are: anyone can read it here.
const (
	devCodecKeyID = "dev-1"
	devCodecKey   = "cm9tZS1kZXYtY29kZWMta2V5LW5vdC1zZWNyZXQtMDA=" // base64 of "rome-dev-codec-key-not-secret-00"
)

// The Entra groups of the moderators and admins in dev, hosted by the emulator (add members
// with POST /_emulator/groups/{id}/members): the worker synchronises them into the directory.
const (
	DevModeratorsGroup = "8c2d5e0a-0001-4f6b-9a7e-5d1c3b2a4f01"
	DevAdminsGroup     = "8c2d5e0a-0002-4f6b-9a7e-5d1c3b2a4f02"
)

// graphCertFile is where the Graph emulator writes its self-signed certificate.
func (o Options) graphCertFile() string { return filepath.Join(o.StateDir, "graphemu-cert.pem") }

// The stand-ins keep their state in the state dir, so that a restart (by devstack after a
// crash, or the next `make dev`) finds it again: the emulator its certificate's key (the
// services trust the certificate they read at their start), its teams, channels, messages,
// subscriptions and tokens; the sink the mail it received.
func (o Options) graphKeyFile() string   { return filepath.Join(o.StateDir, "graphemu-key.pem") }
func (o Options) graphStateFile() string { return filepath.Join(o.StateDir, "graphemu-state.json") }
func (o Options) mailFile() string       { return filepath.Join(o.StateDir, "smtpsink-mail.jsonl") }

// fakeEnv is the environment of the stand-ins.
func (o Options) fakeEnv(base []string) []string {
	env := append([]string(nil), base...)
	return append(env,
		"GRAPH_EMULATOR_ADDR=127.0.0.1:"+strconv.Itoa(o.Ports.Graph),
		"GRAPH_EMULATOR_CERT_FILE="+o.graphCertFile(),
		"GRAPH_EMULATOR_KEY_FILE="+o.graphKeyFile(),
		"GRAPH_EMULATOR_STATE_FILE="+o.graphStateFile(),
		"GRAPH_TENANT_ID="+devGraphTenant, "GRAPH_CLIENT_ID="+devGraphClient, "GRAPH_CLIENT_SECRET="+devGraphSecret,
		"GRAPH_TEAM_IDS="+devGraphTeam,
		// The groups the worker synchronises exist from the start, empty.
		"ENTRA_MODERATORS_GROUP_ID="+DevModeratorsGroup, "ENTRA_ADMINS_GROUP_ID="+DevAdminsGroup,
		"SMTP_SINK_ADDR=127.0.0.1:"+strconv.Itoa(o.Ports.SMTP),
		"SMTP_SINK_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(o.Ports.Mail),
		"SMTP_SINK_MAIL_FILE="+o.mailFile(),
	)
}

func localURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// Endpoints are where a started stack answers.
type Endpoints struct {
	Console         string // base URLs, no trailing slash
	Intake          string
	Referential     string
	Notifications   string
	Worker          string
	TemporalAddress string // gRPC host:port
	TemporalUI      string
	Graph           string // the Graph emulator; its state at /_emulator/state
	Mail            string // the e-mails the SMTP sink received, at /messages
}

// Endpoints derives the stack's addresses from resolved options.
func (o Options) Endpoints() Endpoints {
	return Endpoints{
		Console:         localURL(o.Ports.Console),
		Intake:          localURL(o.Ports.Intake),
		Referential:     localURL(o.Ports.Referential),
		Notifications:   localURL(o.Ports.Notifications),
		Worker:          localURL(o.Ports.Worker),
		TemporalAddress: o.TemporalAddress,
		TemporalUI:      localURL(o.Ports.TemporalUI),
		Graph:           "https://127.0.0.1:" + strconv.Itoa(o.Ports.Graph),
		Mail:            localURL(o.Ports.Mail),
	}
}

// childEnv is the environment of a process started from a service binary (referential
// migrate and import included): the caller's environment (less its Temporal client
// settings, see temporalClientSetting), then the stack's settings, then ExtraEnv. os/exec
// keeps the last value of a repeated key, so later entries win. serviceEnv adds what only
// one service reads.
//
// No AUTH_* is set: in dev mode, platform/auth derives the dev issuer, its JWKS and the
// token endpoint from INTAKE_PORT; a caller's AUTH_* still passes through.
func (o Options) childEnv(base []string) []string { return o.serviceEnv("", base) }

// serviceEnv is childEnv for the service named name ("" for none in particular).
func (o Options) serviceEnv(name string, base []string) []string {
	var env []string
	for _, kv := range base {
		if k, _, _ := strings.Cut(kv, "="); !temporalClientSetting(k) {
			env = append(env, kv)
		}
	}
	set := func(k, v string) { env = append(env, k+"="+v) }
	set("ROME_STATE_DIR", o.StateDir)
	set("ROME_DATA_DIR", o.DataDir)
	set("DATABASE_URL", o.DatabaseURL)
	set("ROME_DEV_MODE", strconv.FormatBool(o.DevMode))
	for _, pv := range portVars {
		set(pv.env, strconv.Itoa(*pv.port(&o.Ports)))
	}
	for _, svc := range services {
		if svc.urlEnv != "" {
			set(svc.urlEnv, localURL(*svc.port.port(&o.Ports)))
		}
	}
	env = append(env, o.TemporalClientEnv()...)
	set("TEMPORAL_TASK_QUEUE", o.TaskQueue)
	// Teams through the Graph emulator, e-mail through the SMTP sink.
	graph := "https://127.0.0.1:" + strconv.Itoa(o.Ports.Graph)
	set("GRAPH_TENANT_ID", devGraphTenant)
	set("GRAPH_CLIENT_ID", devGraphClient)
	set("GRAPH_CLIENT_SECRET", devGraphSecret)
	set("GRAPH_TEAM_ID", devGraphTeam)
	set("GRAPH_BASE_URL", graph+"/v1.0")
	set("GRAPH_AUTHORITY_HOST", graph)
	set("GRAPH_CA_FILE", o.graphCertFile())
	set("GRAPH_CLIENT_STATE", devGraphClientState)
	// Private channels, so that their member lists can be seen in the emulator.
	set("GRAPH_PRIVATE_CHANNELS", "true")
	set("GRAPH_CHANNEL_OWNERS", devGraphOwner)
	set("INTAKE_PUBLIC_URL", localURL(o.Ports.Intake))
	// Where people open the console: the links of notifications and e-mails lead there
	// (the intake's to /demandes/{id}).
	console := localURL(o.Ports.Console)
	set("CONSOLE_PUBLIC_URL", console)
	set("CONSOLE_URL", console)
	set("ACCESS_INVITE_GUESTS", "true")
	set("GRAPH_APP_SERVICE_PRINCIPAL_ID", devGraphAppServicePrincipal)
	set("GRAPH_APP_ROLES", devGraphAppRoles)
	set("GRAPH_INVITE_REDIRECT_URL", console)
	// The emulator hosts the moderators' and admins' groups, which the worker reads often.
	set("ENTRA_MODERATORS_GROUP_ID", DevModeratorsGroup)
	set("ENTRA_ADMINS_GROUP_ID", DevAdminsGroup)
	set("ENTRA_SYNC_INTERVAL", "3s")
	set("SMTP_ADDR", "127.0.0.1:"+strconv.Itoa(o.Ports.SMTP))
	set("SMTP_FROM", "plateforme-rome@localhost")
	if name == "intake" {
		// The dev server's UI decrypts histories through the intake's codec routes.
		set("TEMPORAL_CODEC_CORS_ORIGINS", o.temporalUIOrigins())
	}
	if name == "console" {
		// The request page links ops to the request's workflow there.
		set("TEMPORAL_UI_URL", localURL(o.Ports.TemporalUI))
	}
	if name == "notifications" {
		// Relative links and the digests' inbox lead to the console's pages. Generic names,
		// so set for the notifications service only.
		set("PUBLIC_URL", console)
		set("INBOX_URL", "/notifications")
	}
	if lookup(base, "LOG_FORMAT") == "" {
		set("LOG_FORMAT", "text") // read by people in a terminal
	}
	return append(env, o.ExtraEnv...)
}

// TemporalClientEnv is how the stack's processes reach Temporal (platform/temporalx reads
// it): the dev server the stack started, in its namespace, payloads encrypted with the dev
// key; no TOML profile (os.DevNull), so a developer's ~/.config/temporalio/temporal.toml
// does not send them elsewhere.
func (o Options) TemporalClientEnv() []string {
	return []string{
		"TEMPORAL_CONFIG_FILE=" + os.DevNull,
		"TEMPORAL_ADDRESS=" + o.TemporalAddress,
		"TEMPORAL_NAMESPACE=" + o.TemporalNamespace,
		"TEMPORAL_CODEC_KEYS=" + devCodecKeyID + ":" + devCodecKey,
	}
}

// temporalClientSetting reports whether key sets how a Temporal client connects or
// encrypts (a profile, TLS, an API key, gRPC headers, codec keys): the caller's are
// dropped, since the developer's shell may point the temporal CLI at another cluster.
// The platform's own TEMPORAL_* tuning (cache size, concurrency) passes through.
func temporalClientSetting(key string) bool {
	switch key {
	case "TEMPORAL_CONFIG_FILE", "TEMPORAL_PROFILE", "TEMPORAL_API_KEY", "TEMPORAL_CLIENT_AUTHORITY", "TEMPORAL_TLS":
		return true
	}
	return strings.HasPrefix(key, "TEMPORAL_TLS_") || strings.HasPrefix(key, "TEMPORAL_GRPC_META_") || strings.HasPrefix(key, "TEMPORAL_CODEC_")
}

// temporalUIOrigins are the origins the dev server's UI is opened at.
func (o Options) temporalUIOrigins() string {
	port := strconv.Itoa(o.Ports.TemporalUI)
	return "http://127.0.0.1:" + port + ",http://localhost:" + port
}

// lookup returns the last value of key in env, as os/exec would pass it.
func lookup(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// describeDatabase says where the services keep their data, without the password.
func (o Options) describeDatabase() string {
	if o.DatabaseURL == "" {
		return fmt.Sprintf("SQLite files in %s (<service>.db)", o.StateDir)
	}
	return "PostgreSQL " + redactDSN(o.DatabaseURL)
}
