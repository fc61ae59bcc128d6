package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/referential/internal/reftest"
)

// ftConsumer reads the referential as France Travail's consumers read France Travail: plain
// net/http, a client-credentials token, then the lists (and not the project's client).
type ftConsumer struct {
	t     testing.TB
	base  string
	token string
}

func (c *ftConsumer) login(id, secret string) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret},
		"scope": {"api_rome-metiersv1 api_rome-fiches-metiersv1 api_rome-competencesv1 nomenclatureRome"}}
	res, err := http.Post(c.base+"/connexion/oauth2/access_token?realm=/partenaire", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != 200 {
		c.t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	c.token = tok.AccessToken
}

func (c *ftConsumer) get(path string) []byte {
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		c.t.Fatalf("GET %s: %d %v %.200s", path, res.StatusCode, err, b)
	}
	return b
}

// sync copies a list by code.
func (c *ftConsumer) sync(path string) map[string]json.RawMessage {
	var items []json.RawMessage
	if err := json.Unmarshal(c.get(path), &items); err != nil {
		c.t.Fatal(err)
	}
	copy := make(map[string]json.RawMessage, len(items))
	for _, it := range items {
		var key struct{ Code string }
		if err := json.Unmarshal(it, &key); err != nil || key.Code == "" {
			c.t.Fatalf("%s: item without code %s", path, it)
		}
		copy[key.Code] = it
	}
	return copy
}

// registerClient registers an API client as an admin does.
func registerClient(t testing.TB, srv *reftest.Server) (id, secret string) {
	body := strings.NewReader(`{"name":"consumer test"}`)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/api-clients", body)
	req.Header.Set("Authorization", "Bearer "+srv.Token(t, auth.RoleAdmin))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var c struct{ ClientID, ClientSecret string }
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != 201 {
		t.Fatalf("register: %d %v", res.StatusCode, err)
	}
	return c.ClientID, c.ClientSecret
}

// testConsumerSync checks that a consumer syncs the whole referential through the list
// routes, and that its copy equals what the referential serves per code.
func testConsumerSync(t *testing.T, srv *reftest.Server) {
	c := &ftConsumer{t: t, base: srv.URL}
	c.login(registerClient(t, srv))

	metiers := c.sync("/rome-metiers/v1/metiers/metier")
	fiches := c.sync("/rome-fiches-metiers/v1/fiches-rome/fiche-metier")
	competences := c.sync("/rome-competences/v1/competences/competence")
	appellations := c.sync("/rome-metiers/v1/metiers/appellation")
	if len(metiers) != 1584 || len(fiches) != 1584 || len(competences) != 17810+507+15354 || len(appellations) != 13120 {
		t.Fatalf("synced %d métiers, %d fiches, %d compétences, %d appellations", len(metiers), len(fiches), len(competences), len(appellations))
	}
	same := func(path string, copy json.RawMessage) {
		if got := c.get(path); !bytes.Equal(got, copy) {
			t.Errorf("%s differs from the list:\n%.300s\n%.300s", path, got, copy)
		}
	}
	// A list item of métiers is metier/{code} narrowed to the list's fields.
	const metierItemFields = "obsolete,code,libelle,definition,accesEmploi,riasecMajeur,riasecMineur,domaineProfessionnel," +
		"transitionEcologiqueDetaillee,transitionNumerique,transitionDemographique,emploiReglemente,emploiCadre,appellations,formacodes"
	for code, m := range metiers {
		same("/rome-metiers/v1/metiers/metier/"+code+"?champs="+metierItemFields, m)
		same("/rome-fiches-metiers/v1/fiches-rome/fiche-metier/"+code, fiches[code])
	}
	for code, a := range appellations {
		same("/rome-metiers/v1/metiers/appellation/"+code, a)
	}
	for code, comp := range competences {
		same("/rome-competences/v1/competences/competence/"+code, comp)
	}
}
