package targets

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/apiclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
)

// Directory is app.Directory against the intake's GET /v1/people, asked as a service.
type Directory struct {
	intake *apiclient.Client
}

// NewDirectory asks the intake at intakeURL with hc, which authenticates as a service.
func NewDirectory(intakeURL string, hc *http.Client) *Directory {
	return &Directory{intake: apiclient.New("intake", strings.TrimRight(intakeURL, "/"), hc)}
}

// subsPerQuery keeps a query by subjects well under URL length limits (a subject has at
// most 255 characters).
const subsPerQuery = 25

// ActivePeople asks for the holders of q.Roles, the partners of q.Orgs and the people
// among q.Subs, every page of each, and keeps the active ones in active organisations.
func (d *Directory) ActivePeople(ctx context.Context, q app.PeopleQuery) ([]app.Person, error) {
	var queries []url.Values
	if len(q.Roles) > 0 {
		queries = append(queries, url.Values{"role": q.Roles})
	}
	if len(q.Orgs) > 0 {
		queries = append(queries, url.Values{"role": {"partner"}, "org": q.Orgs})
	}
	for subs := range slices.Chunk(q.Subs, subsPerQuery) {
		queries = append(queries, url.Values{"sub": subs})
	}
	var out []app.Person
	for _, query := range queries {
		query.Set("active", "true")
		query.Set("limit", "1000")
		for {
			var page struct {
				Items []struct {
					Sub, Name, Email, Role, Org, EntraID, Delegate string
					OrgActive                                      bool
					AbsentUntil                                    *time.Time
				}
				NextCursor string
			}
			if err := d.intake.Do(ctx, http.MethodGet, "/v1/people?"+query.Encode(), nil, &page); err != nil {
				return nil, err
			}
			for _, p := range page.Items {
				if p.OrgActive {
					out = append(out, app.Person{Sub: p.Sub, Name: p.Name, Email: p.Email, Role: p.Role, Org: p.Org, EntraID: p.EntraID,
						AbsentUntil: p.AbsentUntil, Delegate: p.Delegate})
				}
			}
			if page.NextCursor == "" {
				break
			}
			query.Set("cursor", page.NextCursor)
		}
	}
	return out, nil
}
