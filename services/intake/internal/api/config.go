package api

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/services/intake/internal/accessreq"
	"github.com/plateforme-rome/rome/workflows/access"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Config is what the request routes read from the environment.
type Config struct {
	TaskQueue      string         // TEMPORAL_TASK_QUEUE, default request.TaskQueue
	Timers         request.Timers // REQUEST_* durations, default request.DefaultTimers
	ReferentialURL string         // REFERENTIAL_URL, default http://127.0.0.1:8082
	// NotificationsURL is the notifications service (NOTIFICATIONS_URL, default
	// http://127.0.0.1:8083): the intake tells people of what happens to ideas.
	NotificationsURL string
	// PublicURL is where people and Microsoft Graph reach the intake (INTAKE_PUBLIC_URL,
	// default http://127.0.0.1:<INTAKE_PORT>).
	PublicURL string
	// ConsoleURL is the web console's address (CONSOLE_URL, e.g. http://127.0.0.1:8080; empty
	// by default). When set, notifications and Teams link to a request's page there
	// (CONSOLE_URL/demandes/{id}); otherwise to the API (PublicURL/v1/requests/{id}).
	ConsoleURL string
	// Teams is set when GRAPH_CLIENT_STATE is: the secret Graph's change notifications
	// must carry, and the webhook they go to.
	Teams *request.TeamsConfig
	// AccessLinkKey signs the links of the access requests' e-mails (ACCESS_LINK_KEY, at
	// least 32 bytes; required outside dev mode, where a fixed development key is used).
	AccessLinkKey []byte
	// AccessTimers are the access requests' expiries (ACCESS_VERIFICATION_EXPIRY, default 7
	// days; ACCESS_APPLICANT_EXPIRY, default 30 days).
	AccessTimers access.Timers
	// AssignInTurn: checked requests go to the next active moderator whose domains cover
	// their fiche (ASSIGNMENT_RULE: manual, the default, or round_robin).
	AssignInTurn bool
	// InviteGuests: approved applicants are invited as Entra B2B guests with their app role
	// (ACCESS_INVITE_GUESTS; the worker's GRAPH_APP_* settings must be set).
	InviteGuests bool
}

// devAccessLinkKey signs the access links in dev mode only: anyone can read it here.
const devAccessLinkKey = "dev-mode-access-link-key-not-secret-000"

// ConfigFromEnv reads the Config. A duration that does not parse, or is not positive,
// stops the service at start-up with the variable's name.
func ConfigFromEnv() (Config, error) {
	port, err := config.Port("INTAKE_PORT", 8081)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		TaskQueue:        config.String("TEMPORAL_TASK_QUEUE", request.TaskQueue),
		ReferentialURL:   config.String("REFERENTIAL_URL", "http://127.0.0.1:8082"),
		NotificationsURL: config.String("NOTIFICATIONS_URL", "http://127.0.0.1:8083"),
		PublicURL:        strings.TrimSuffix(config.String("INTAKE_PUBLIC_URL", fmt.Sprintf("http://127.0.0.1:%d", port)), "/"),
	}
	if u := strings.TrimSuffix(config.String("CONSOLE_URL", ""), "/"); u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
			return Config{}, fmt.Errorf("CONSOLE_URL=%s: must be an absolute http(s) URL, e.g. http://127.0.0.1:8080", u)
		}
		cfg.ConsoleURL = u
	}
	if state := config.String("GRAPH_CLIENT_STATE", ""); state != "" {
		cfg.Teams = &request.TeamsConfig{NotificationURL: cfg.PublicURL + "/webhooks/graph", ClientState: state}
	}
	def := request.DefaultTimers
	for _, t := range []struct {
		env string
		dst *time.Duration
		def time.Duration
	}{
		{"REQUEST_TRIAGE_REMINDER", &cfg.Timers.TriageReminder, def.TriageReminder},
		{"REQUEST_TRIAGE_ESCALATION", &cfg.Timers.TriageEscalation, def.TriageEscalation},
		{"REQUEST_DECISION_REMINDER", &cfg.Timers.DecisionReminder, def.DecisionReminder},
		{"REQUEST_DECISION_ESCALATION", &cfg.Timers.DecisionEscalation, def.DecisionEscalation},
		{"REQUEST_PARTNER_REMINDER", &cfg.Timers.PartnerReminder, def.PartnerReminder},
		{"REQUEST_QUESTION_EXPIRY", &cfg.Timers.QuestionExpiry, def.QuestionExpiry},
		{"ACCESS_VERIFICATION_EXPIRY", &cfg.AccessTimers.Verification, access.DefaultVerification},
		{"ACCESS_APPLICANT_EXPIRY", &cfg.AccessTimers.Applicant, access.DefaultApplicant},
	} {
		d, err := config.Duration(t.env, t.def)
		if err != nil {
			return Config{}, err
		}
		if d <= 0 {
			return Config{}, fmt.Errorf("%s=%s: must be positive", t.env, d)
		}
		*t.dst = d
	}
	switch rule := config.String("ASSIGNMENT_RULE", "manual"); rule {
	case "manual":
	case "round_robin":
		cfg.AssignInTurn = true
	default:
		return Config{}, fmt.Errorf("ASSIGNMENT_RULE=%s: must be manual or round_robin", rule)
	}
	if cfg.InviteGuests, err = config.Bool("ACCESS_INVITE_GUESTS", false); err != nil {
		return Config{}, err
	}
	dev, err := config.DevMode()
	if err != nil {
		return Config{}, err
	}
	cfg.AccessLinkKey = []byte(config.String("ACCESS_LINK_KEY", ""))
	switch {
	case len(cfg.AccessLinkKey) == 0 && dev:
		cfg.AccessLinkKey = []byte(devAccessLinkKey)
	case len(cfg.AccessLinkKey) < accessreq.MinKeyLength:
		return Config{}, fmt.Errorf("ACCESS_LINK_KEY: must hold at least %d bytes (a random secret: it signs the access requests' e-mail links)", accessreq.MinKeyLength)
	}
	return cfg, nil
}
