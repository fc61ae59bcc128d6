// Package directory is the platform's directory of organisations and people: who may sign
// in, with which role, for which organisation. The intake owns it (it serves the dev
// issuer, will run the access requests' workflows and turns ideas into requests); every
// service checks tokens against it (auth.Directory), the notifications service resolves
// recipients with it.
package directory

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/textrule"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
)

// Store is where the directory lives (package store).
type Store interface {
	InsertOrganisation(ctx context.Context, o store.Organisation) error
	UpdateOrganisation(ctx context.Context, o store.Organisation) error
	Organisation(ctx context.Context, id string) (store.Organisation, error)
	Organisations(ctx context.Context) ([]store.Organisation, error)
	InsertPerson(ctx context.Context, p store.Person) error
	InsertPeople(ctx context.Context, people []store.Person) error
	UpdatePerson(ctx context.Context, p store.Person) error
	TouchPerson(ctx context.Context, sub string, at time.Time) error
	PersonBySub(ctx context.Context, sub string) (store.Person, error)
	PersonSigningIn(ctx context.Context, sub string) (store.Person, bool, error)
	PersonByEmail(ctx context.Context, email string) (store.Person, error)
	InvitedPerson(ctx context.Context, entraID string) (store.Person, error)
	BindSub(ctx context.Context, provisional, sub string, at time.Time) error
	SyncGroup(ctx context.Context, g store.GroupSync) (store.SyncReport, error)
	AssignInTurn(ctx context.Context, requestID, domain string, at time.Time) (string, error)
	People(ctx context.Context, f store.PeopleFilter) ([]store.Person, bool, error)
}

// How a person entered the directory.
const (
	SourceAdmin    = "admin"
	SourceDevToken = "dev_token"
	SourceImport   = "import"
	// SourceAccessRequest: an admin approved their access request; they hold a provisional
	// subject (access.PersonSub) until their first sign-in.
	SourceAccessRequest = "access_request"
	// SourceEntraSync: a member of an Entra group synchronised by the worker (moderators,
	// admins); provisional subject until their first sign-in, like an applicant's.
	SourceEntraSync = store.SourceEntraSync
)

// The kinds of organisation.
const (
	KindOPCO          = "opco"
	KindBranche       = "branche_professionnelle"
	KindInstitution   = "institution"
	KindFranceTravail = "france_travail"
)

// Kinds lists them.
var Kinds = []string{KindOPCO, KindBranche, KindInstitution, KindFranceTravail}

// seenInterval is how stale a person's "last seen" may be: a person seen less than this
// ago is not written again (every call checks its token against the directory).
const seenInterval = 5 * time.Minute

// Service runs the directory's use cases.
type Service struct {
	store Store
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // the last sign-in recorded per subject
}

// New returns the directory on st; now is the clock (nil: time.Now).
func New(st Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, now: now, seen: map[string]time.Time{}}
}

var (
	orgIDPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)
	domainPattern = regexp.MustCompile(`^[A-N]([0-9]{4})?$`) // a grand domaine, or a code ROME
	subPattern    = regexp.MustCompile(`^[\x21-\x2e\x30-\x7e]{1,255}$`)
	entraPattern  = regexp.MustCompile(`^[0-9A-Za-z-]{1,64}$`)

	nameRule = textrule.Rule{Name: "name", Max: 200}
)

// maxDomains bounds an organisation's domains of expertise.
const maxDomains = 200

// problemOf turns the store's refusals into the API's problems.
func problemOf(err error) error {
	switch {
	case errors.Is(err, store.ErrNoPerson):
		return httpx.NotFound("person_not_found", "No person of the directory has this subject.")
	case errors.Is(err, store.ErrNoOrganisation):
		return httpx.NotFound("organisation_not_found", "No organisation of the directory has this id.")
	case errors.Is(err, store.ErrEntraIDTaken):
		return httpx.NewProblem(http.StatusConflict, "entra_id_taken", "Another person of the directory has this Entra object id.",
			httpx.FieldError{Field: "entraId", Message: "belongs to another person"})
	}
	return err
}

// invalid is the 422 problem of a body's field errors, nil when there are none.
func invalid(code string, errs []httpx.FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	return httpx.Unprocessable(code, "The request is invalid; see errors.", errs...)
}

// cleanName applies the name rule to *s (required) and appends its problem to errs.
func cleanName(field string, s *string, errs *[]httpx.FieldError) {
	if p := textrule.Clean(field, s, nameRule, true); p != nil {
		*errs = append(*errs, httpx.FieldError{Field: p.Field, Message: p.Message})
	}
}

func oneOf(value string, allowed []string) bool { return slices.Contains(allowed, value) }
