// Package teams holds the activities that give each evolution request a Microsoft Teams channel
// through Microsoft Graph (github.com/microsoftgraph/msgraph-sdk-go, the only package of the
// platform importing it): create the channel, post messages, archive it, and keep a
// change-notification subscription on its messages so that replies come back.
package teams

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/telemetry"
)

// Defaults of Config.
const (
	DefaultBaseURL        = "https://graph.microsoft.com/v1.0"
	DefaultRequestTimeout = 30 * time.Second
)

// Config says which tenant, team and Graph endpoint to use.
type Config struct {
	TenantID     string `json:"tenantId"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"-"`
	// BaseURL is Graph's v1.0 root (DefaultBaseURL; the emulator's https://host:port/v1.0 in dev).
	BaseURL string `json:"baseUrl"`
	// AuthorityHost is the identity platform (public cloud when empty; the emulator's URL in
	// dev). Instance discovery is disabled for a non-public authority.
	AuthorityHost   string `json:"authorityHost"`
	TeamID          string `json:"teamId"`
	PrivateChannels bool   `json:"privateChannels"`
	// ChannelOwners are the Entra object ids made owners of every private channel (the ROME
	// team's, GRAPH_CHANNEL_OWNERS): Graph creates a private channel only with an owner.
	ChannelOwners []string `json:"channelOwners"`
	// ClientState is the secret Graph puts in each change notification (GRAPH_CLIENT_STATE),
	// used when a subscription input brings none: it stays out of workflow histories.
	ClientState string `json:"-"`
	// RootCAs, when set, are the only roots trusted (the emulator's self-signed certificate).
	RootCAs *x509.CertPool `json:"-"`
	// Transport overrides the HTTP transport of both the credential and Graph (tests).
	Transport http.RoundTripper `json:"-"`
	// RequestTimeout bounds each HTTP request (DefaultRequestTimeout).
	RequestTimeout time.Duration `json:"requestTimeout"`
	// AppServicePrincipalID is the object id of our application's service principal in the
	// tenant (GRAPH_APP_SERVICE_PRINCIPAL_ID): the resource of the app role assignments.
	AppServicePrincipalID string `json:"appServicePrincipalId"`
	// AppRoles maps each platform role (RolePartner, RoleModerator, RoleAdmin) to the id of
	// our application's app role (GRAPH_APP_ROLES).
	AppRoles map[string]string `json:"appRoles"`
	// InviteRedirectURL is where invited guests land once they redeem their invitation: the
	// console (GRAPH_INVITE_REDIRECT_URL).
	InviteRedirectURL string `json:"inviteRedirectUrl"`
	// Meter counts the failed Graph calls; nil is the global meter provider's.
	Meter metric.Meter `json:"-"`
}

// ConfigFromEnv reads GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET, GRAPH_BASE_URL,
// GRAPH_AUTHORITY_HOST, GRAPH_TEAM_ID, GRAPH_PRIVATE_CHANNELS (bool), GRAPH_CHANNEL_OWNERS
// (comma-separated Entra object ids), GRAPH_CA_FILE (a PEM file of roots to trust instead
// of the system's, for the emulator), and, for guest invitations and app role assignments
// (both or neither of the first two; see Config.Invitations):
// GRAPH_APP_SERVICE_PRINCIPAL_ID (the object id of our application's service principal, the
// resource of the assignments), GRAPH_APP_ROLES (the ids of its app roles for the platform's
// roles: "partner=<uuid>,moderator=<uuid>,admin=<uuid>", all three; anything else is an
// error) and GRAPH_INVITE_REDIRECT_URL (where invited guests land: the console).
func ConfigFromEnv() (Config, error) {
	c := Config{
		TenantID:      os.Getenv("GRAPH_TENANT_ID"),
		ClientID:      os.Getenv("GRAPH_CLIENT_ID"),
		ClientSecret:  os.Getenv("GRAPH_CLIENT_SECRET"),
		BaseURL:       os.Getenv("GRAPH_BASE_URL"),
		AuthorityHost: os.Getenv("GRAPH_AUTHORITY_HOST"),
		TeamID:        os.Getenv("GRAPH_TEAM_ID"),
		ClientState:   os.Getenv("GRAPH_CLIENT_STATE"),

		AppServicePrincipalID: strings.TrimSpace(os.Getenv("GRAPH_APP_SERVICE_PRINCIPAL_ID")),
		InviteRedirectURL:     strings.TrimSpace(os.Getenv("GRAPH_INVITE_REDIRECT_URL")),
	}
	roles, err := parseAppRoles(os.Getenv("GRAPH_APP_ROLES"))
	if err != nil {
		return Config{}, err
	}
	c.AppRoles = roles
	if err := c.checkInvitations(); err != nil {
		return Config{}, err
	}
	for id := range strings.SplitSeq(os.Getenv("GRAPH_CHANNEL_OWNERS"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.ChannelOwners = append(c.ChannelOwners, id)
		}
	}
	if v := os.Getenv("GRAPH_PRIVATE_CHANNELS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("GRAPH_PRIVATE_CHANNELS: %w", err)
		}
		c.PrivateChannels = b
	}
	if f := os.Getenv("GRAPH_CA_FILE"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return Config{}, fmt.Errorf("GRAPH_CA_FILE: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return Config{}, fmt.Errorf("GRAPH_CA_FILE: no certificate in %s", f)
		}
	}
	return c, nil
}

// New builds the activities on a Graph client authenticated with client credentials.
func New(c Config) (*Activities, error) {
	var missing []string
	for name, v := range map[string]string{"tenant id": c.TenantID, "client id": c.ClientID, "client secret": c.ClientSecret, "team id": c.TeamID} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("teams: missing %s", strings.Join(missing, ", "))
	}
	if c.PrivateChannels && len(c.ChannelOwners) == 0 {
		return nil, errors.New("teams: private channels need at least one owner (GRAPH_CHANNEL_OWNERS)")
	}
	if err := c.checkInvitations(); err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	base, err := url.Parse(strings.TrimSuffix(c.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("teams: invalid Graph base URL %q", c.BaseURL)
	}
	transport := c.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if c.RootCAs != nil {
			t.TLSClientConfig.RootCAs = c.RootCAs
		}
		transport = t
	}
	transport = httpx.OutboundTransport(transport)
	credOpts := &azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{
		Transport: &http.Client{Transport: transport, Timeout: c.RequestTimeout},
		Retry:     policy.RetryOptions{MaxRetries: -1}, // the activity's retry policy is in charge
	}}
	if c.AuthorityHost != "" && strings.TrimSuffix(c.AuthorityHost, "/") != strings.TrimSuffix(cloud.AzurePublic.ActiveDirectoryAuthorityHost, "/") {
		credOpts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: strings.TrimSuffix(c.AuthorityHost, "/") + "/"}
		credOpts.DisableInstanceDiscovery = true
	}
	cred, err := azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret, credOpts)
	if err != nil {
		return nil, fmt.Errorf("teams: credential: %w", err)
	}
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		cred, []string{base.Scheme + "://" + base.Host + "/.default"}, []string{base.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("teams: auth provider: %w", err)
	}
	httpClient := &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(transport, middlewares()...),
		Timeout:       c.RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("teams: request adapter: %w", err)
	}
	adapter.SetBaseUrl(base.String())
	if c.Meter == nil {
		c.Meter = otel.Meter("github.com/plateforme-rome/rome/activities/teams")
	}
	graphErrors, err := telemetry.GraphErrors.Int64Counter(c.Meter)
	if err != nil {
		return nil, fmt.Errorf("teams: metrics: %w", err)
	}
	return &Activities{graph: msgraphsdk.NewGraphServiceClient(adapter), cfg: c, graphErrors: graphErrors}, nil
}

// middlewares are Graph's default pipeline with the SDK's retry handler switched off, so
// that 429 and 5xx reach the activity, which hands them to Temporal's retry policy.
func middlewares() []khttp.Middleware {
	opts := msgraphsdk.GetDefaultClientOptions()
	var out []khttp.Middleware
	for _, m := range msgraphcore.GetDefaultMiddlewaresWithOptions(&opts) {
		if _, isRetry := m.(*khttp.RetryHandler); isRetry {
			m = khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
				ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
			})
		}
		out = append(out, m)
	}
	return out
}

// apiError is what kiota returns for an HTTP error answer (ODataError embeds abs.ApiError).
type apiError interface {
	error
	GetStatusCode() int
	GetResponseHeaders() *abs.ResponseHeaders
}

var _ apiError = (*abs.ApiError)(nil)

func asAPIError(err error) (apiError, bool) {
	var e apiError
	return e, errors.As(err, &e)
}
