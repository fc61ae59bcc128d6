package reftest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/reftest"
)

// bearer adds a fixed token, as the oauth2 transport does in the services.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestClientAgainstTheService(t *testing.T) {
	ctx := context.Background()
	srv := reftest.Start(t, database.Postgres)
	token := srv.Token(t, auth.RoleService)
	c := refclient.New(srv.URL, &http.Client{Transport: bearer{token}})

	ver, err := c.Version(ctx)
	if err != nil || ver.Version != 60 {
		t.Fatalf("version %+v %v", ver, err)
	}
	cs := refclient.ChangeSet{ID: "cs-client-1", RequestID: "req-1", BaseVersion: 60, CodeRome: "A1101",
		Operations: []refclient.Operation{{Op: refclient.OpRemoveMobilite, ToCodeRome: "A1102"}}}
	val, err := c.Validate(ctx, cs)
	if err != nil || !val.Applies || len(val.Preview) == 0 {
		t.Fatalf("validate %+v %v", val, err)
	}
	checked, err := c.Check(ctx, cs)
	if err != nil || !checked.Applies || string(checked.Preview) != "null" || len(checked.Diff) != 1 {
		t.Fatalf("check %+v %v", checked, err)
	}
	pub, err := c.Publish(ctx, cs)
	if err != nil || pub.Version != 61 {
		t.Fatalf("publish %+v %v", pub, err)
	}
	again, err := c.Publish(ctx, cs)
	if err != nil || again.Version != 61 || !again.PublishedAt.Equal(pub.PublishedAt) {
		t.Fatalf("retry %+v %v", again, err)
	}
	prov, err := c.Provenance(ctx, "A1101", 60)
	if err != nil || prov.Version != 60 || !hasImportedMobilite(prov, "A1102") {
		t.Fatalf("provenance at 60: %+v %v", prov, err)
	}
	if prov, err = c.Provenance(ctx, "A1101", 0); err != nil || prov.Version != 61 || hasImportedMobilite(prov, "A1102") {
		t.Fatalf("provenance at 61: %+v %v", prov, err)
	}
	cs.ID = "cs-client-2"
	_, err = c.Publish(ctx, cs)
	results, isConflict := refclient.ConflictResults(err)
	if !isConflict || len(results) != 1 || results[0].Applies {
		t.Fatalf("conflict: %+v", err)
	}
	var ce *refclient.Error
	if _, err := c.Fiche(ctx, "Z0000"); !errors.As(err, &ce) || ce.Status != 404 {
		t.Fatalf("missing fiche: %v", err)
	}
}

// The client's release methods drive a release from staging to publication.
func TestReleaseClientAgainstTheService(t *testing.T) {
	ctx := context.Background()
	srv := reftest.StartWith(t, database.SQLite, app.Config{Publication: refclient.PublicationReleaseTrains})
	c := refclient.New(srv.URL, &http.Client{Transport: bearer{srv.Token(t, auth.RoleService)}})
	cs := refclient.ChangeSet{ID: "cs-train-1", RequestID: "req-1", RequestTitle: "Retirer une mobilité", BaseVersion: 60, CodeRome: "A1101",
		Operations: []refclient.Operation{{Op: refclient.OpRemoveMobilite, ToCodeRome: "A1102"}}}
	if pub, err := c.Publish(ctx, cs); err != nil || !pub.Staged() || pub.Release != 1 {
		t.Fatalf("staged %+v %v", pub, err)
	}
	if next, err := c.NextRelease(ctx); err != nil || next.Number != 1 || len(next.ChangeSets) != 1 || next.ChangeSets[0].RequestTitle != cs.RequestTitle {
		t.Fatalf("next release %+v %v", next, err)
	}
	if prov, err := c.Provenance(ctx, "A1101", refclient.NextVersion); err != nil || prov.Version != 61 || hasImportedMobilite(prov, "A1102") {
		t.Fatalf("provenance in the next release: %+v %v", prov, err)
	}
	if r, err := c.FreezeRelease(ctx); err != nil || r.Status != refclient.ReleaseFrozen {
		t.Fatalf("freeze %+v %v", r, err)
	}
	if r, err := c.ValidateRelease(ctx, 1); err != nil || r.ChangeSets[0].Status != refclient.StagedIncluded {
		t.Fatalf("validate %+v %v", r, err)
	}
	if r, err := c.PublishRelease(ctx, 1); err != nil || r.Version == nil || *r.Version != 61 || r.Notes == "" {
		t.Fatalf("publish %+v %v", r, err)
	}
	if r, err := c.Release(ctx, 1); err != nil || r.Status != refclient.ReleasePublished {
		t.Fatalf("release 1 %+v %v", r, err)
	}
	if rs, err := c.Releases(ctx); err != nil || len(rs) != 2 || rs[0].Status != refclient.ReleaseOpen || rs[1].Number != 1 {
		t.Fatalf("releases %+v %v", rs, err)
	}
	var ce *refclient.Error
	if _, err := c.FreezeRelease(ctx); !errors.As(err, &ce) || ce.Code != refclient.CodeReleaseEmpty {
		t.Fatalf("freezing an empty release: %v", err)
	}
	if v, err := c.Version(ctx); err != nil || v.Version != 61 {
		t.Fatalf("version %+v %v", v, err)
	}
}

// hasImportedMobilite tells whether the fiche has a mobilité to target from the import.
func hasImportedMobilite(p *refclient.Provenance, target string) bool {
	for _, el := range p.Elements {
		if el.Kind == "mobilite" && el.CodeRome == target && el.Introduced.Source == refclient.OriginImport {
			return true
		}
	}
	return false
}

func init() { gin.SetMode(gin.ReleaseMode) }
