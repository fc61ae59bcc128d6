package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/workflows/request"
)

// The change-set routes read the largest change set the request contract allows, up to
// their limit and not a byte more: over it, 413 body_too_large, whether the body states
// its length or not.
func TestChangeSetBodiesAreCapped(t *testing.T) {
	t.Parallel()
	h := Router(Deps{
		Service:        app.New(nil, slog.New(slog.DiscardHandler), app.Config{}),
		Authenticate:   func(c *gin.Context) { c.Next() },
		RequireService: func(c *gin.Context) { c.Next() },
	})
	largest := largestChangeSet(t)
	if len(largest) > changeSetBodyLimit {
		t.Fatalf("the largest change set takes %d bytes, the limit is %d", len(largest), changeSetBodyLimit)
	}
	// JSON allows spaces after the value: the body can be made exactly as long as needed.
	padded := func(n int) []byte { return append(bytes.Clone(largest), bytes.Repeat([]byte(" "), n-len(largest))...) }
	post := func(path string, body []byte, statesLength bool) *httptest.ResponseRecorder {
		var r io.Reader = bytes.NewReader(body)
		if !statesLength {
			r = io.MultiReader(r) // a reader of unknown length: sent chunked
		}
		req := httptest.NewRequest(http.MethodPost, path, r)
		if !statesLength {
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	code := func(rec *httptest.ResponseRecorder) string {
		var p struct{ Code string }
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		return p.Code
	}
	for _, path := range []string{"/v1/changesets:validate", "/v1/changesets"} {
		for _, statesLength := range []bool{true, false} {
			// Read to the end: the change set's malformed codeRome is the only problem.
			if rec := post(path, padded(changeSetBodyLimit), statesLength); rec.Code != http.StatusUnprocessableEntity || code(rec) != "invalid_operations" ||
				!strings.Contains(rec.Body.String(), `"field":"codeRome"`) {
				t.Errorf("%s, %d bytes (length stated: %v): %d %.300s", path, changeSetBodyLimit, statesLength, rec.Code, rec.Body)
			}
			if rec := post(path, padded(changeSetBodyLimit+1), statesLength); rec.Code != http.StatusRequestEntityTooLarge || code(rec) != "body_too_large" {
				t.Errorf("%s, %d bytes (length stated: %v): %d %.300s", path, changeSetBodyLimit+1, statesLength, rec.Code, rec.Body)
			}
		}
	}
}

// largestChangeSet is a change set at the request contract's limits, every character 4
// bytes long: a create_fiche with its longest texts and labels, then set_text operations
// with the longest text, up to request.MaxOperations. Its codeRome is malformed, so that
// the routes read and check it all and refuse it at the end.
func largestChangeSet(t *testing.T) []byte {
	t.Helper()
	chars := func(n int) string { return strings.Repeat("😀", n) } // 4 bytes in UTF-8
	id := func(i int) string { return fmt.Sprintf("%0*d", request.MaxIdentifier, i) }
	label := chars(request.MaxLibelle)
	ops := []refclient.Operation{{ID: id(0), Op: refclient.OpCreateFiche, Libelle: label, DomaineProfessionnel: "M18",
		Definition: chars(request.MaxText), AccesEmploi: chars(request.MaxText),
		AppellationPrincipale: &refclient.AppellationPrincipale{Libelle: label, LibelleCourt: chars(request.MaxLibelleCourt)}}}
	for i := 1; i < request.MaxOperations; i++ {
		ops = append(ops, refclient.Operation{ID: id(i), Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: chars(request.MaxText)})
	}
	b, err := json.Marshal(refclient.ChangeSet{ID: chars(maxChangeSetID), RequestID: chars(maxChangeSetID), RequestTitle: chars(request.MaxTitle),
		BaseVersion: 60, CodeRome: "M18055", Operations: ops})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
