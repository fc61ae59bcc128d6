// Package graphemu is a Microsoft Graph v1.0 emulator for development and tests, in memory
// (New) or kept in a file across restarts (NewPersistent).
// It speaks Graph's wire format (JSON shapes, OData conventions, the
// {"error":{"code","message"}} error body) for what the platform uses: the Microsoft identity
// platform's client-credentials token flow (with the authority metadata MSAL fetches), team
// channels, their members and messages, change-notification subscriptions on channel messages
// (validation handshake, notifications), the directory (users, B2B invitations, groups and
// their members' delta query, app role assignments of the application's service principal),
// and control endpoints under /_emulator/ to simulate users, inject faults and read the state.
//
// Control endpoints (no token needed):
//
//	POST   /_emulator/teams/{team}/channels/{channel}/messages  a user writes {"from":{"id","displayName"},"text"}
//	GET    /_emulator/teams/{team}/channels/{channel}           a channel with its members and messages
//	POST   /_emulator/groups/{group}/members                    add a member: a user {"id","displayName","mail","userPrincipalName","userType"},
//	                                                             found by id, else by mail, else created (a new id when none is given);
//	                                                             the group is created when missing; 201 with the user
//	DELETE /_emulator/groups/{group}/members/{user}             remove a member (204; 404 when not a member)
//	GET    /_emulator/redeem/{invitation}                       the guest redeems an invitation (its inviteRedeemUrl): Accepted, then
//	                                                             redirected to the inviteRedirectUrl
//	POST   /_emulator/faults, GET /_emulator/faults, DELETE /_emulator/faults   inject, list, clear faults
//	GET    /_emulator/state                                     everything the emulator holds
//
// The Go API does the same: PostUserMessage, AddGroupMember, RemoveGroupMember, AddFault, State.
//
// MSAL only accepts https authorities: serve the emulator over TLS (httptest.NewTLSServer in
// tests, Config-less ListenAndServeTLS in the command) and make clients trust its certificate.
package graphemu

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config is what the emulator accepts and hosts.
type Config struct {
	TenantID     string   `json:"tenantId"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	Teams        []string `json:"teams"` // team ids hosted; DefaultTeamID when empty
	// AppDisplayName is the sender name of messages posted with an app token.
	AppDisplayName string `json:"appDisplayName"`
	// HTTPClient sends validation handshakes and change notifications (default: 10 s timeout).
	HTTPClient *http.Client `json:"-"`
	// NotificationRetries is how many times a failed notification is retried (default 3).
	NotificationRetries int `json:"notificationRetries"`
	// NotificationBackoff is the delay before the first retry, doubled each time (default 200 ms).
	NotificationBackoff time.Duration `json:"notificationBackoff"`
	// ServicePrincipalID is the object id of the application's service principal, the resource
	// of app role assignments (DefaultServicePrincipalID).
	ServicePrincipalID string `json:"servicePrincipalId"`
	// AppRoles are the application's app roles, value → id (ParseAppRoles(DefaultAppRoles)).
	AppRoles map[string]string `json:"appRoles"`
	// DeltaPageSize is how many entries a page of a delta query holds (DefaultDeltaPageSize).
	DeltaPageSize int          `json:"deltaPageSize"`
	Logger        *slog.Logger `json:"-"`
}

// Defaults used when Config leaves them empty.
const (
	DefaultTeamID       = "rome-team"
	DefaultTenantID     = "rome-tenant"
	DefaultClientID     = "rome-platform"
	DefaultClientSecret = "rome-dev-secret"
	// MaxSubscriptionLifetime is Graph's maximum lifetime of a subscription to channel messages.
	MaxSubscriptionLifetime = 60 * time.Minute
	// HandshakeTimeout is how long the notification endpoint has to echo the validation token.
	HandshakeTimeout = 10 * time.Second
	tokenLifetime    = time.Hour
)

// Emulator is an http.Handler serving Graph, the identity platform and /_emulator/.
type Emulator struct {
	cfg  Config
	mux  *http.ServeMux
	log  *slog.Logger
	http *http.Client

	mu            sync.Mutex
	teams         map[string]*team
	subscriptions map[string]*Subscription
	tokens        map[string]time.Time
	faults        []*Fault
	deliveries    []*Delivery
	activityFeed  []*ActivityNotification
	users         map[string]*User
	groups        map[string]*group
	invitations   []*Invitation
	assignments   []*AppRoleAssignment
	seq           int64
	host          string // last Host the emulator was reached on
	tls           bool
	stateFile     string     // where the state is saved; "" keeps the state in memory only
	dirty         bool       // changed since the last write of the state file
	saving        bool       // a save loop is running
	writeMu       sync.Mutex // one write of the state file at a time

	wg sync.WaitGroup // notifications in flight
}

type team struct {
	id       string
	channels []*Channel
}

// New returns an emulator hosting cfg.Teams (or DefaultTeamID).
func New(cfg Config) *Emulator {
	if cfg.TenantID == "" {
		cfg.TenantID = DefaultTenantID
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = DefaultClientSecret
	}
	if len(cfg.Teams) == 0 {
		cfg.Teams = []string{DefaultTeamID}
	}
	if cfg.AppDisplayName == "" {
		cfg.AppDisplayName = "ROME"
	}
	if cfg.NotificationRetries == 0 {
		cfg.NotificationRetries = 3
	}
	if cfg.NotificationBackoff == 0 {
		cfg.NotificationBackoff = 200 * time.Millisecond
	}
	if cfg.ServicePrincipalID == "" {
		cfg.ServicePrincipalID = DefaultServicePrincipalID
	}
	if cfg.AppRoles == nil {
		cfg.AppRoles, _ = ParseAppRoles(DefaultAppRoles)
	}
	e := &Emulator{
		cfg:           cfg,
		mux:           http.NewServeMux(),
		log:           cfg.Logger,
		http:          cfg.HTTPClient,
		teams:         map[string]*team{},
		subscriptions: map[string]*Subscription{},
		tokens:        map[string]time.Time{},
		users:         map[string]*User{},
		groups:        map[string]*group{},
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.http == nil {
		e.http = &http.Client{Timeout: HandshakeTimeout}
	}
	for _, id := range cfg.Teams {
		e.teams[id] = &team{id: id}
	}
	e.routes()
	return e
}

// Close waits for the change notifications in flight and writes the state's last
// changes, if it is kept in a file.
func (e *Emulator) Close() {
	e.wg.Wait()
	if err := e.Flush(); err != nil {
		e.log.Error("graphemu: state not saved at close", "error", err)
	}
}

func (e *Emulator) routes() {
	// Microsoft identity platform.
	e.mux.HandleFunc("GET /common/discovery/instance", e.instanceDiscovery)
	e.mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.openIDConfiguration)
	e.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.token)
	// Graph v1.0.
	g := func(pattern string, h http.HandlerFunc) { e.mux.Handle(pattern, e.authenticated(h)) }
	g("POST /v1.0/teams/{team}/channels", e.createChannel)
	g("GET /v1.0/teams/{team}/channels", e.listChannels)
	g("GET /v1.0/teams/{team}/channels/{channel}", e.getChannel)
	g("PATCH /v1.0/teams/{team}/channels/{channel}", e.patchChannel)
	g("POST /v1.0/teams/{team}/channels/{channel}/archive", e.archiveChannel)
	g("POST /v1.0/teams/{team}/channels/{channel}/members", e.addMember)
	g("GET /v1.0/teams/{team}/channels/{channel}/members", e.listMembers)
	g("POST /v1.0/teams/{team}/channels/{channel}/messages", e.appPostMessage)
	g("GET /v1.0/teams/{team}/channels/{channel}/messages", e.listMessages)
	g("GET /v1.0/teams/{team}/channels/{channel}/messages/{message}", e.getMessage)
	g("POST /v1.0/users/{user}/teamwork/sendActivityNotification", e.sendActivityNotification)
	g("POST /v1.0/subscriptions", e.createSubscription)
	g("GET /v1.0/subscriptions", e.listSubscriptions)
	g("GET /v1.0/subscriptions/{id}", e.getSubscription)
	g("PATCH /v1.0/subscriptions/{id}", e.patchSubscription)
	g("DELETE /v1.0/subscriptions/{id}", e.deleteSubscription)
	g("POST /v1.0/invitations", e.createInvitation)
	g("GET /v1.0/users", e.listUsers)
	g("GET /v1.0/users/{user}", e.getUser)
	g("GET /v1.0/groups/{group}", e.getGroup)
	g("GET /v1.0/groups/delta", e.groupsDelta)
	g("GET /v1.0/groups/delta()", e.groupsDelta) // as the SDKs call it
	g("GET /v1.0/servicePrincipals/{sp}/appRoleAssignedTo", e.listAppRoleAssignedTo)
	g("POST /v1.0/servicePrincipals/{sp}/appRoleAssignedTo", e.assignAppRole)
	// Emulator control.
	e.mux.HandleFunc("POST /_emulator/teams/{team}/channels/{channel}/messages", e.userPostMessage)
	e.mux.HandleFunc("GET /_emulator/teams/{team}/channels/{channel}", e.viewChannel)
	e.mux.HandleFunc("POST /_emulator/groups/{group}/members", e.adminAddGroupMember)
	e.mux.HandleFunc("DELETE /_emulator/groups/{group}/members/{user}", e.adminRemoveGroupMember)
	e.mux.HandleFunc("GET /_emulator/redeem/{invitation}", e.redeem)
	e.mux.HandleFunc("POST /_emulator/faults", e.postFault)
	e.mux.HandleFunc("GET /_emulator/faults", e.getFaults)
	e.mux.HandleFunc("DELETE /_emulator/faults", e.deleteFaults)
	e.mux.HandleFunc("GET /_emulator/state", e.getState)
}

// ServeHTTP applies the injected faults, then serves the request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.host, e.tls = r.Host, r.TLS != nil
	e.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		e.mux.ServeHTTP(w, r)
		return
	}
	f, ok := e.takeFault(r)
	if !ok {
		e.mux.ServeHTTP(w, r)
		return
	}
	latency := time.Duration(f.LatencyMs) * time.Millisecond
	if f.Status == 0 {
		// Latency only: the request is processed at once, its answer is delayed (and lost if
		// the client gives up first), as when a response is lost on the way back.
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, r)
		sleep(r.Context(), latency)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	sleep(r.Context(), latency)
	if f.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfterSeconds))
	}
	graphError(w, f.Status, faultCode(f.Status), "Fault injected by the Graph emulator.")
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func faultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "ServiceNotAvailable"
	case http.StatusInternalServerError:
		return "InternalServerError"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusGone:
		return "SyncStateNotFound" // a delta token Graph no longer knows: sync again from scratch
	}
	return "UnknownError"
}

// graphError writes Graph's error body.
func graphError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code":       code,
		"message":    message,
		"innerError": map[string]any{"date": time.Now().UTC().Format(time.RFC3339), "request-id": newID()},
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body, gzip-compressed or not (the Graph SDK compresses request bodies).
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body := io.Reader(r.Body)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid gzip body: "+err.Error())
			return false
		}
		defer zr.Close()
		body = zr
	}
	if err := json.NewDecoder(io.LimitReader(body, 1<<20)).Decode(v); err != nil {
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid request body: "+err.Error())
		return false
	}
	return true
}

// baseURL is the emulator's own URL as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (e *Emulator) nextSeq() int64 { // callers hold e.mu
	e.seq++
	return e.seq
}

func (e *Emulator) odataContext(r *http.Request, what string) string {
	return baseURL(r) + "/v1.0/$metadata#" + what
}
