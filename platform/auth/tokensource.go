package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
)

// tokenEarlyExpiry renews a cached token this long before it expires.
const tokenEarlyExpiry = time.Minute

// NewTokenSource returns the tokens service uses to call other services
// (oauth2.NewClient(ctx, ts) gives an authenticating *http.Client).
//
// With AUTH_CLIENT_ID it uses the OAuth 2.0 client-credentials grant
// (AUTH_CLIENT_SECRET, AUTH_TOKEN_URL, AUTH_SCOPE: space- or
// comma-separated, e.g. "api://rome/.default" on Entra ID). Otherwise, in
// dev mode, it asks the dev token endpoint (AUTH_TOKEN_URL, default the
// intake's /dev/token) for a "service" token. Tokens are cached until
// shortly before they expire. ctx bounds every token request.
func NewTokenSource(ctx context.Context, service string) (oauth2.TokenSource, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: httpx.OutboundTransport(nil)}
	if id := config.String("AUTH_CLIENT_ID", ""); id != "" {
		cc := clientcredentials.Config{
			ClientID:     id,
			ClientSecret: config.String("AUTH_CLIENT_SECRET", ""),
			TokenURL:     config.String("AUTH_TOKEN_URL", ""),
			Scopes:       strings.FieldsFunc(config.String("AUTH_SCOPE", ""), func(r rune) bool { return r == ' ' || r == ',' }),
		}
		if cc.ClientSecret == "" || cc.TokenURL == "" {
			return nil, errors.New("AUTH_CLIENT_ID is set but AUTH_CLIENT_SECRET or AUTH_TOKEN_URL is not")
		}
		ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
		return oauth2.ReuseTokenSourceWithExpiry(nil, cc.TokenSource(ctx), tokenEarlyExpiry), nil
	}
	dev, err := config.DevMode()
	if err != nil {
		return nil, err
	}
	if !dev {
		return nil, errors.New("service-to-service calls need AUTH_CLIENT_ID, AUTH_CLIENT_SECRET and AUTH_TOKEN_URL (or ROME_DEV_MODE=true)")
	}
	issuer, err := DevIssuerURLFromEnv()
	if err != nil {
		return nil, err
	}
	src := &devTokenSource{
		ctx:     ctx,
		client:  client,
		url:     config.String("AUTH_TOKEN_URL", issuer+"/token"),
		request: DevTokenRequest{Sub: "service:" + service, Name: service, Role: string(RoleService)},
	}
	return oauth2.ReuseTokenSourceWithExpiry(nil, src, tokenEarlyExpiry), nil
}

// devTokenSource asks the dev issuer for a token on every call; the
// ReuseTokenSource around it does the caching.
type devTokenSource struct {
	ctx     context.Context
	client  *http.Client
	url     string
	request DevTokenRequest
}

func (s *devTokenSource) Token() (*oauth2.Token, error) {
	body, err := json.Marshal(s.request)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("dev token endpoint: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var prob struct {
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}
		_ = json.NewDecoder(res.Body).Decode(&prob)
		return nil, fmt.Errorf("dev token endpoint %s answered %d %s %s", s.url, res.StatusCode, prob.Code, prob.Detail)
	}
	var out DevTokenResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Token == "" {
		return nil, fmt.Errorf("dev token endpoint %s: unreadable answer: %v", s.url, err)
	}
	return &oauth2.Token{AccessToken: out.Token, TokenType: "Bearer", Expiry: out.ExpiresAt}, nil
}
