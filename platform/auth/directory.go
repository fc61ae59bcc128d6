package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
)

// Person is someone the platform's directory knows: who they are and what they may do.
// The directory, not the token, says a person's role and organisation.
type Person struct {
	Sub     string `json:"sub"`
	EntraID string `json:"entraId,omitempty"`
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	Role    Role   `json:"role"`
	Org     string `json:"org,omitempty"`
	Active  bool   `json:"active"`
}

// Directory tells who a person is. The intake owns the directory; the other services
// ask it over HTTP (RemoteDirectory).
type Directory interface {
	// Person is the person whose subject is sub, ErrUnknownPerson when there is none.
	// entraID is the token's Entra object id (may be empty): a person recorded before their
	// first sign-in (an approved access request) under a provisional subject and this Entra
	// id is then bound to sub.
	Person(ctx context.Context, sub, entraID string) (Person, error)
}

// ErrUnknownPerson: the directory has no person with this subject.
var ErrUnknownPerson = errors.New("unknown person")

// DirectoryTTL is how long a RemoteDirectory trusts an answer: a deactivation reaches
// every service within this time.
const DirectoryTTL = 30 * time.Second

// staleGrace is how long a RemoteDirectory keeps answering from an expired entry while
// the directory cannot be reached, so that a restarting intake does not lock everyone out.
const staleGrace = 10 * time.Minute

// maxCachedPeople bounds a RemoteDirectory's cache.
const maxCachedPeople = 50_000

// RemoteDirectoryFromEnv is the directory a service other than the intake asks (see
// DirectoryClientFromEnv).
func RemoteDirectoryFromEnv(ctx context.Context, service string) (*RemoteDirectory, error) {
	base, client, err := DirectoryClientFromEnv(ctx, service)
	if err != nil {
		return nil, err
	}
	return NewRemoteDirectory(base, client), nil
}

// DirectoryClientFromEnv is where the directory's service is, and a client that calls it as
// service (see NewTokenSource): AUTH_DIRECTORY_URL, else INTAKE_URL, else, in dev mode, the
// intake on INTAKE_PORT. Outside dev mode one of the first two must be set.
func DirectoryClientFromEnv(ctx context.Context, service string) (string, *http.Client, error) {
	base := config.String("AUTH_DIRECTORY_URL", config.String("INTAKE_URL", ""))
	if base == "" {
		dev, err := config.DevMode()
		if err != nil {
			return "", nil, err
		}
		if !dev {
			return "", nil, errors.New("AUTH_DIRECTORY_URL is not set: the intake's URL, whose directory says who may sign in")
		}
		port, err := config.Port("INTAKE_PORT", 8081)
		if err != nil {
			return "", nil, err
		}
		base = fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	tokens, err := NewTokenSource(ctx, service)
	if err != nil {
		return "", nil, err
	}
	client := oauth2.NewClient(ctx, tokens)
	client.Timeout = 5 * time.Second
	client.Transport = httpx.OutboundTransport(client.Transport)
	return base, client, nil
}

// RemoteDirectory asks the directory's service (GET {base}/v1/people/{sub}, with a
// service token) and remembers each answer for DirectoryTTL.
type RemoteDirectory struct {
	base   string
	client *http.Client
	now    func() time.Time

	mu     sync.Mutex
	cached map[string]cachedPerson
}

type cachedPerson struct {
	person  Person
	unknown bool
	at      time.Time
}

// NewRemoteDirectory asks the service at base with client, which must authenticate as a
// service (oauth2.NewClient with NewTokenSource).
func NewRemoteDirectory(base string, client *http.Client) *RemoteDirectory {
	return &RemoteDirectory{base: strings.TrimSuffix(base, "/"), client: client, now: time.Now, cached: map[string]cachedPerson{}}
}

// Person answers from the cache while it is fresh, else from the directory; when the
// directory fails, from an entry at most staleGrace old.
func (d *RemoteDirectory) Person(ctx context.Context, sub, entraID string) (Person, error) {
	d.mu.Lock()
	entry, ok := d.cached[sub]
	d.mu.Unlock()
	age := d.now().Sub(entry.at)
	if ok && age < DirectoryTTL {
		return entry.answer()
	}
	fetched, err := d.fetch(ctx, sub, entraID)
	if err != nil && !errors.Is(err, ErrUnknownPerson) {
		if ok && age < staleGrace {
			return entry.answer()
		}
		return Person{}, err
	}
	d.remember(sub, cachedPerson{person: fetched, unknown: err != nil, at: d.now()})
	return fetched, err
}

func (e cachedPerson) answer() (Person, error) {
	if e.unknown {
		return Person{}, ErrUnknownPerson
	}
	return e.person, nil
}

func (d *RemoteDirectory) remember(sub string, e cachedPerson) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.cached) >= maxCachedPeople {
		clear(d.cached) // rare: refilled by the next calls, one lookup each
	}
	d.cached[sub] = e
}

func (d *RemoteDirectory) fetch(ctx context.Context, sub, entraID string) (Person, error) {
	target := d.base + "/v1/people/" + url.PathEscape(sub)
	if entraID != "" {
		target += "?" + url.Values{"entraId": {entraID}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Person{}, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := d.client.Do(req)
	if err != nil {
		return Person{}, fmt.Errorf("directory: %w", err)
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
		var p Person
		if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
			return Person{}, fmt.Errorf("directory: person %q: %w", sub, err)
		}
		return p, nil
	case http.StatusNotFound:
		return Person{}, ErrUnknownPerson
	default:
		return Person{}, fmt.Errorf("directory: person %q: HTTP %d", sub, res.StatusCode)
	}
}
