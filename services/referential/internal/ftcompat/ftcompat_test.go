package ftcompat_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/ftcompat"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/workflows/request"
)

// The ft* types mirror France Travail's documented schemas, written from the sources listed
// in the package doc (francetravail.io documentation v12.0, the swagger field selector of
// metier/{code}), independently of the package's own types. Optional fields are pointers.
// Decoding our JSON strictly into them proves there is no field the API does not have and
// that every JSON type matches.

type ftRef struct {
	Code    string `json:"code"`
	Libelle string `json:"libelle"`
}

type ftDomaine struct {
	Code         string `json:"code"`
	Libelle      string `json:"libelle"`
	GrandDomaine ftRef  `json:"grandDomaine"`
}

type ftCompetence struct {
	Type         string  `json:"type"`
	Code         string  `json:"code"`
	Libelle      string  `json:"libelle"`
	CodeOgr      string  `json:"codeOgr"`
	RiasecMajeur *string `json:"riasecMajeur"`
	RiasecMineur *string `json:"riasecMineur"`
}

type ftCompetenceCle struct {
	Competence ftCompetence `json:"competence"`
	Frequence  int          `json:"frequence"`
}

type ftTags struct {
	TransitionEcologique          *bool   `json:"transitionEcologique"`
	TransitionEcologiqueDetaillee *string `json:"transitionEcologiqueDetaillee"`
	TransitionNumerique           *bool   `json:"transitionNumerique"`
	TransitionDemographique       *bool   `json:"transitionDemographique"`
	EmploiReglemente              *bool   `json:"emploiReglemente"`
	EmploiCadre                   *bool   `json:"emploiCadre"`
}

type ftAppellation struct {
	Code            string            `json:"code"`
	Libelle         string            `json:"libelle"`
	LibelleCourt    *string           `json:"libelleCourt"`
	Classification  string            `json:"classification"`
	CompetencesCles []ftCompetenceCle `json:"competencesCles"`
	ftTags
}

type ftSecteur struct {
	Code            string `json:"code"`
	Libelle         string `json:"libelle"`
	SecteurActivite *ftRef `json:"secteurActivite"`
}

type ftMetier struct {
	Obsolete             bool      `json:"obsolete"`
	DateFin              *string   `json:"dateFin"`
	Code                 string    `json:"code"`
	Libelle              string    `json:"libelle"`
	Definition           string    `json:"definition"`
	AccesEmploi          string    `json:"accesEmploi"`
	RiasecMajeur         *string   `json:"riasecMajeur"`
	RiasecMineur         *string   `json:"riasecMineur"`
	CodeIsco             *string   `json:"codeIsco"`
	DomaineProfessionnel ftDomaine `json:"domaineProfessionnel"`
	ftTags
	Appellations        []ftAppellation `json:"appellations"`
	Themes              []ftRef         `json:"themes"`
	CentresInterets     []ftRef         `json:"centresInterets"`
	CentresInteretsLies []struct {
		CentreInteret ftRef `json:"centreInteret"`
		Principal     bool  `json:"principal"`
	} `json:"centresInteretsLies"`
	SecteursActivites     []ftSecteur `json:"secteursActivites"`
	SecteursActivitesLies []struct {
		SecteurActivite ftSecteur `json:"secteurActivite"`
		Principal       bool      `json:"principal"`
	} `json:"secteursActivitesLies"`
	CompetencesMobilisees            []ftCompetence `json:"competencesMobilisees"`
	CompetencesMobiliseesPrincipales []ftCompetence `json:"competencesMobiliseesPrincipales"`
	CompetencesMobiliseesEmergentes  []ftCompetence `json:"competencesMobiliseesEmergentes"`
	DivisionsNaf                     []ftRef        `json:"divisionsNaf"`
	Formacodes                       []ftRef        `json:"formacodes"`
	ContextesTravail                 []struct {
		Code      string `json:"code"`
		Libelle   string `json:"libelle"`
		Categorie string `json:"categorie"`
	} `json:"contextesTravail"`
}

type ftAppellationDetail struct {
	ftAppellation
	Obsolete        bool    `json:"obsolete"`
	DateFin         *string `json:"dateFin"`
	AppellationEsco *struct {
		URI     string `json:"uri"`
		Libelle string `json:"libelle"`
	} `json:"appellationEsco"`
	Metier struct {
		Code                 string    `json:"code"`
		Libelle              string    `json:"libelle"`
		RiasecMajeur         *string   `json:"riasecMajeur"`
		RiasecMineur         *string   `json:"riasecMineur"`
		CodeIsco             *string   `json:"codeIsco"`
		Label                *string   `json:"label"`
		DomaineProfessionnel ftDomaine `json:"domaineProfessionnel"`
		ftTags
	} `json:"metier"`
}

type ftFicheMetier struct {
	Code                         string  `json:"code"`
	Obsolete                     *bool   `json:"obsolete"`
	DateFin                      *string `json:"dateFin"`
	Metier                       ftRef   `json:"metier"`
	GroupesCompetencesMobilisees []struct {
		Enjeu       ftRef `json:"enjeu"`
		Competences []struct {
			Type    string `json:"type"`
			Code    string `json:"code"`
			Libelle string `json:"libelle"`
		} `json:"competences"`
	} `json:"groupesCompetencesMobilisees"`
	GroupesSavoirs []struct {
		CategorieSavoirs ftRef `json:"categorieSavoirs"`
		Savoirs          []struct {
			Type    *string `json:"type"`
			Code    string  `json:"code"`
			Libelle string  `json:"libelle"`
		} `json:"savoirs"`
	} `json:"groupesSavoirs"`
}

type ftVersion struct {
	Version          string `json:"version"`
	LastModifiedDate string `json:"lastModifiedDate"`
}

// strictDecode decodes b into dst rejecting unknown fields, then checks that every key has
// exactly the spelling of a JSON tag of dst (encoding/json alone matches names
// case-insensitively).
func strictDecode(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	return exactKeys(reflect.TypeOf(dst), raw, "")
}

func tagNames(t reflect.Type, into map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			tagNames(f.Type, into)
			continue
		}
		into[name] = f.Type
	}
}

func exactKeys(t reflect.Type, v any, path string) error {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := exactKeys(t, e, path+"[]"); err != nil {
				return err
			}
		}
	case map[string]any:
		names := map[string]reflect.Type{}
		tagNames(t, names)
		for k, e := range x {
			ft, ok := names[k]
			if !ok {
				return errors.New("field " + path + k + " is not in the France Travail schema")
			}
			if err := exactKeys(ft, e, path+k+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

// roundTrip marshals doc and decodes it strictly into the mirror; it returns the JSON
// decoded as a generic value for presence checks.
func roundTrip(t *testing.T, doc, mirror any) map[string]any {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := strictDecode(b, mirror); err != nil {
		t.Fatalf("not the France Travail schema: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// requireArrays checks that always-present lists are JSON arrays, never null or absent.
func requireArrays(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k].([]any); !ok {
			t.Errorf("%s is %#v, want an array", k, m[k])
		}
	}
}

var metierArrays = []string{"appellations", "themes", "centresInterets", "centresInteretsLies", "secteursActivites",
	"secteursActivitesLies", "competencesMobilisees", "competencesMobiliseesPrincipales", "competencesMobiliseesEmergentes",
	"divisionsNaf", "formacodes", "contextesTravail"}

func TestStrictDecodeRejectsWhatTheSchemaLacks(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"unknown field":     `{"code":"X","libelle":"Y","extra":1}`,
		"other spelling":    `{"CODE":"X","libelle":"Y"}`,
		"nested unknown":    `{"code":"X","libelle":"Y","metier":{"code":"M","libelle":"L","peuUsite":true}}`,
		"bool for a string": `{"code":true,"libelle":"Y"}`,
		"number for a bool": `{"code":"X","libelle":"Y","obsolete":0}`,
	} {
		var dst ftAppellationDetail
		if err := strictDecode([]byte(doc), &dst); err == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
}

func build(t *testing.T, v refdata.View, code string) *fiche.Fiche {
	t.Helper()
	f, ok := fiche.Build(v, code, 60)
	if !ok {
		t.Fatalf("%s not found", code)
	}
	return f
}

func codes[T any](items []T, code func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = code(it)
	}
	return out
}

func TestMetierM1805(t *testing.T) {
	t.Parallel()
	snap := romedata.V460(t)
	f := build(t, snap, "M1805")
	m := ftcompat.Metier(f)
	var mirror ftMetier
	raw := roundTrip(t, m, &mirror)
	requireArrays(t, raw, metierArrays...)

	if mirror.Obsolete || mirror.Code != "M1805" || mirror.Libelle != "Développeur / Développeuse informatique" {
		t.Errorf("identity: %v %q %q", mirror.Obsolete, mirror.Code, mirror.Libelle)
	}
	if !strings.HasPrefix(mirror.Definition, "Le / La Développeur(se) informatique conçoit et améliore des systèmes informatiques.\nConçoit et développe") {
		t.Errorf("definition %q", mirror.Definition)
	}
	if strings.Count(mirror.Definition, "\n") != len(f.Textes.Definition)-1 || mirror.AccesEmploi == "" {
		t.Errorf("texts: %d lines for %d sentences, accès %q", strings.Count(mirror.Definition, "\n")+1, len(f.Textes.Definition), mirror.AccesEmploi)
	}
	if *mirror.RiasecMajeur != "I" || *mirror.RiasecMineur != "C" || mirror.CodeIsco != nil {
		t.Errorf("riasec %v %v, codeIsco %v", *mirror.RiasecMajeur, *mirror.RiasecMineur, mirror.CodeIsco)
	}
	want := ftDomaine{"M18", "Systèmes d'information et de télécommunication", ftRef{"M", "Support à l'entreprise"}}
	if mirror.DomaineProfessionnel != want {
		t.Errorf("domaine %+v", mirror.DomaineProfessionnel)
	}
	// Official row: "Emploi Blanc","O","N","N","O".
	tg := mirror.ftTags
	if *tg.TransitionEcologiqueDetaillee != "EMPLOI_BLANC" || !*tg.TransitionNumerique || *tg.TransitionDemographique ||
		*tg.EmploiReglemente || !*tg.EmploiCadre || tg.TransitionEcologique != nil {
		t.Errorf("tags %+v", raw)
	}
	principal := slices.IndexFunc(mirror.Appellations, func(a ftAppellation) bool { return a.Classification == "PRINCIPALE" })
	if principal < 0 || mirror.Appellations[principal].Code != "14153" || mirror.Appellations[principal].Libelle != mirror.Libelle {
		t.Errorf("principal appellation at %d in %+v", principal, mirror.Appellations)
	}
	if len(mirror.Appellations) != len(f.Appellations) {
		t.Errorf("%d appellations, fiche has %d", len(mirror.Appellations), len(f.Appellations))
	}
	if got := codes(mirror.Themes, func(r ftRef) string { return r.Code }); !slices.Equal(got, []string{"009", "016"}) {
		t.Errorf("themes %v", got)
	}
	if got := codes(mirror.CentresInterets, func(r ftRef) string { return r.Code }); !slices.Equal(got, []string{"6", "10", "29"}) {
		t.Errorf("centres d'intérêt %v", got)
	}
	for _, c := range mirror.CentresInteretsLies {
		if c.Principal != (c.CentreInteret.Code == "29") {
			t.Errorf("centre d'intérêt %+v", c)
		}
	}
	// Rows: secteur 96 with sous-secteur 133 (non), secteur 96 alone (principal).
	if len(mirror.SecteursActivites) != 2 || mirror.SecteursActivites[0].Code != "133" || mirror.SecteursActivites[0].SecteurActivite == nil ||
		mirror.SecteursActivites[0].SecteurActivite.Code != "96" || mirror.SecteursActivites[1].Code != "96" || mirror.SecteursActivites[1].SecteurActivite != nil {
		t.Errorf("secteurs %+v", mirror.SecteursActivites)
	}
	if l := mirror.SecteursActivitesLies; len(l) != 2 || l[0].Principal || !l[1].Principal || l[1].SecteurActivite.Code != "96" {
		t.Errorf("secteurs liés %+v", l)
	}
	if len(mirror.DivisionsNaf) != 1 || mirror.DivisionsNaf[0].Code != "62" {
		t.Errorf("NAF %+v", mirror.DivisionsNaf)
	}
	if len(mirror.Formacodes) != 0 {
		t.Errorf("formacodes %+v", mirror.Formacodes)
	}
	if len(mirror.CompetencesMobilisees) != 58 || len(mirror.CompetencesMobiliseesPrincipales) != 10 || len(mirror.CompetencesMobiliseesEmergentes) != 1 ||
		mirror.CompetencesMobiliseesEmergentes[0].Code != "400759" || len(mirror.ContextesTravail) != 7 {
		t.Errorf("%d compétences, %d principales, %d émergentes %+v, %d contextes", len(mirror.CompetencesMobilisees),
			len(mirror.CompetencesMobiliseesPrincipales), len(mirror.CompetencesMobiliseesEmergentes), mirror.CompetencesMobiliseesEmergentes, len(mirror.ContextesTravail))
	}
}

// TestMetierOptionalFields: A1101 has no RIASEC mineur and no O/N tag filled in; they are
// left out, not sent as "" or false.
func TestMetierOptionalFields(t *testing.T) {
	t.Parallel()
	snap := romedata.V460(t)
	var mirror ftMetier
	raw := roundTrip(t, ftcompat.Metier(build(t, snap, "A1101")), &mirror)
	for _, k := range []string{"riasecMineur", "transitionNumerique", "transitionDemographique", "emploiReglemente", "emploiCadre", "codeIsco", "dateFin"} {
		if _, present := raw[k]; present {
			t.Errorf("%s present: %v", k, raw[k])
		}
	}
	if mirror.RiasecMajeur == nil || *mirror.RiasecMajeur == "" || *mirror.TransitionEcologiqueDetaillee != "EMPLOI_BLANC" {
		t.Errorf("riasec majeur %v, transition %v", mirror.RiasecMajeur, mirror.TransitionEcologiqueDetaillee)
	}
	var vert ftMetier
	roundTrip(t, ftcompat.Metier(build(t, snap, "A1202")), &vert)
	if *vert.TransitionEcologiqueDetaillee != "EMPLOI_VERT" {
		t.Errorf("A1202: %v", *vert.TransitionEcologiqueDetaillee)
	}
}

// linkedItem is a bloc 5 item as the official files link it to a fiche.
type linkedItem struct{ code, typ, coeur string }

// officialCompetences reads a fiche's compétences and savoirs straight from the link and
// coherence rows, independently of the fiche builder.
func officialCompetences(v refdata.View, code string) []linkedItem {
	col := func(ds string, row []string, name string) string { return row[romecsv.MustByName(ds).Col(name)] }
	var out []linkedItem
	for _, l := range v.ForRome(romecsv.Lien, code) {
		if col(romecsv.Lien, l, "code_compo_bloc") != romecsv.BlocCompetences {
			continue
		}
		ogr := col(romecsv.Lien, l, "code_ogr")
		it := linkedItem{code: ogr}
		switch col(romecsv.Lien, l, "code_rubrique") {
		case romecsv.RubriqueSavoirFaire:
			it.typ = ftcompat.TypeMacroSavoirFaire
			if c, _ := v.Get(romecsv.Competence, ogr); col(romecsv.Competence, c, "nature") == romecsv.NatureCompetence {
				it.typ = ftcompat.TypeCompetenceDetaillee
			}
		case romecsv.RubriqueSavoirEtre:
			it.typ = ftcompat.TypeMacroSavoirEtre
		case romecsv.RubriqueSavoirs:
			it.typ = ftcompat.TypeSavoir
		}
		if c, ok := v.Get(romecsv.Coherence, code+romecsv.KeySep+ogr); ok {
			it.coeur = col(romecsv.Coherence, c, "coeur_metier")
		}
		out = append(out, it)
	}
	return out
}

func sortedPairs(items []string) []string { sort.Strings(items); return items }

// TestMetierEveryFiche renders all 1,584 official fiches: each answer is in the France
// Travail schema and its compétences match the official link and coherence rows.
func TestMetierEveryFiche(t *testing.T) {
	t.Parallel()
	snap := romedata.V460(t)
	categories := map[string]bool{"CONDITIONS_TRAVAIL": true, "HORAIRE_ET_DUREE_TRAVAIL": true, "LIEU_ET_DEPLACEMENT": true,
		"STATUT_EMPLOI": true, "TYPE_BENEFICIAIRE": true, "TYPE_STRUCTURE_ACCUEIL": true}
	enjeux := map[string]bool{"EMPLOI_BLANC": true, "EMPLOI_VERT": true, "EMPLOI_BRUN": true, "EMPLOI_STRATEGIQUE": true}
	fiches := snap.T(romecsv.Fiche)
	if fiches.Len() != 1584 {
		t.Fatalf("%d fiches", fiches.Len())
	}
	for _, r := range fiches.Rows() {
		code := r.Cols[0]
		var mirror ftMetier
		raw := roundTrip(t, ftcompat.Metier(build(t, snap, code)), &mirror)
		requireArrays(t, raw, metierArrays...)
		if mirror.TransitionEcologiqueDetaillee == nil || !enjeux[*mirror.TransitionEcologiqueDetaillee] {
			t.Errorf("%s: transitionEcologiqueDetaillee %v", code, raw["transitionEcologiqueDetaillee"])
		}
		official := officialCompetences(snap, code)
		var all, principales, emergentes, gotAll, gotPrincipales, gotEmergentes []string
		for _, it := range official {
			pair := it.typ + " " + it.code
			all = append(all, pair)
			switch it.coeur {
			case romecsv.CoeurMetierPrincipale:
				principales = append(principales, pair)
			case romecsv.CoeurMetierEmergente:
				emergentes = append(emergentes, pair)
			}
		}
		pairs := func(cs []ftCompetence) []string {
			return codes(cs, func(c ftCompetence) string {
				if c.Code != c.CodeOgr {
					t.Errorf("%s: code %q ≠ codeOgr %q", code, c.Code, c.CodeOgr)
				}
				return c.Type + " " + c.Code
			})
		}
		gotAll, gotPrincipales, gotEmergentes = pairs(mirror.CompetencesMobilisees), pairs(mirror.CompetencesMobiliseesPrincipales), pairs(mirror.CompetencesMobiliseesEmergentes)
		if !slices.Equal(sortedPairs(all), sortedPairs(gotAll)) || !slices.Equal(sortedPairs(principales), sortedPairs(gotPrincipales)) ||
			!slices.Equal(sortedPairs(emergentes), sortedPairs(gotEmergentes)) {
			t.Errorf("%s: compétences %d/%d principales %d/%d émergentes %d/%d (got/official)", code,
				len(gotAll), len(all), len(gotPrincipales), len(principales), len(gotEmergentes), len(emergentes))
		}
		for _, c := range mirror.CompetencesMobilisees {
			macro := c.Type == ftcompat.TypeMacroSavoirFaire || c.Type == ftcompat.TypeMacroSavoirEtre
			if !macro && (c.RiasecMajeur != nil || c.RiasecMineur != nil) {
				t.Errorf("%s: RIASEC on %+v", code, c)
			}
		}
		for _, c := range mirror.ContextesTravail {
			if !categories[c.Categorie] {
				t.Errorf("%s: contexte %+v", code, c)
			}
		}
		if t.Failed() {
			return
		}
	}
}

func TestMetierVersion(t *testing.T) {
	t.Parallel()
	info := romedata.Release(t).Info
	var mirror ftVersion
	roundTrip(t, ftcompat.MetierVersion(info.Number, info.PublishedAt), &mirror)
	if mirror.Version != "60" || mirror.LastModifiedDate != "2025-09-18T00:00:00Z" {
		t.Errorf("%+v", mirror)
	}
	if _, err := time.Parse(time.RFC3339, mirror.LastModifiedDate); err != nil {
		t.Error(err)
	}
	paris := time.FixedZone("CEST", 2*3600)
	if got := ftcompat.MetierVersion(61, time.Date(2026, 6, 15, 9, 30, 0, 0, paris)); got.LastModifiedDate != "2026-06-15T07:30:00Z" {
		t.Errorf("UTC: %+v", got)
	}
}

func TestAppellations(t *testing.T) {
	t.Parallel()
	snap := romedata.V460(t)
	byCode := map[string]ftcompat.AppellationDetail{}
	for _, a := range ftcompat.Appellations(build(t, snap, "M1805")) {
		byCode[a.Code] = a
	}
	a, ok := byCode["14153"]
	if !ok {
		t.Fatal("14153 not found")
	}
	var mirror ftAppellationDetail
	raw := roundTrip(t, a, &mirror)
	if mirror.Code != "14153" || mirror.Libelle != "Développeur / Développeuse informatique" || mirror.Classification != "PRINCIPALE" ||
		mirror.Obsolete || mirror.CompetencesCles != nil || mirror.AppellationEsco != nil {
		t.Errorf("appellation %+v", raw)
	}
	md := mirror.Metier
	if md.Code != "M1805" || md.Libelle != "Développeur / Développeuse informatique" || *md.RiasecMajeur != "I" ||
		md.DomaineProfessionnel.GrandDomaine.Code != "M" || !*md.EmploiCadre || *md.TransitionEcologiqueDetaillee != "EMPLOI_BLANC" {
		t.Errorf("metier %+v", raw["metier"])
	}
	// A synonym has its own tags: 10963 has no transition numérique filled in.
	syn := byCode["10963"]
	if syn.Classification != "SYNONYME" || syn.TransitionNumerique != nil || syn.Metier.Code != "M1805" {
		t.Errorf("synonym %+v", syn)
	}
}

func TestFicheMetier(t *testing.T) {
	t.Parallel()
	snap := romedata.V460(t)
	for _, code := range []string{"M1805", "A1101", "K2111", "M1855"} {
		f := build(t, snap, code)
		var mirror ftFicheMetier
		raw := roundTrip(t, ftcompat.FicheMetier(f), &mirror)
		requireArrays(t, raw, "groupesCompetencesMobilisees", "groupesSavoirs")
		if mirror.Code != code || mirror.Metier != (ftRef{code, f.Libelle}) || mirror.Obsolete == nil || *mirror.Obsolete {
			t.Errorf("%s: %+v", code, raw)
		}
		// Every bloc 5 savoir-faire and savoir-être appears once, under the enjeu of its
		// macro-compétence; every savoir once, under its category.
		var savoirFaire, savoirs, gotSF, gotS []string
		for _, it := range officialCompetences(snap, code) {
			if it.typ == ftcompat.TypeSavoir {
				savoirs = append(savoirs, it.code)
			} else {
				savoirFaire = append(savoirFaire, it.typ+" "+it.code)
			}
		}
		enjeux := map[string]bool{}
		for _, g := range mirror.GroupesCompetencesMobilisees {
			if enjeux[g.Enjeu.Code] || len(g.Enjeu.Code) != 2 || len(g.Competences) == 0 {
				t.Errorf("%s: group %+v", code, g.Enjeu)
			}
			enjeux[g.Enjeu.Code] = true
			for _, c := range g.Competences {
				gotSF = append(gotSF, c.Type+" "+c.Code)
			}
		}
		for _, g := range mirror.GroupesSavoirs {
			if !slices.Contains(request.SavoirCategories, g.CategorieSavoirs.Libelle) || len(g.Savoirs) == 0 {
				t.Errorf("%s: savoir group %+v", code, g.CategorieSavoirs)
			}
			for _, s := range g.Savoirs {
				if s.Type == nil || *s.Type != ftcompat.TypeSavoir {
					t.Errorf("%s: savoir %+v", code, s)
				}
				gotS = append(gotS, s.Code)
			}
		}
		if !slices.Equal(sortedPairs(savoirFaire), sortedPairs(gotSF)) || !slices.Equal(sortedPairs(savoirs), sortedPairs(gotS)) {
			t.Errorf("%s: %d/%d compétences, %d/%d savoirs (got/official)", code, len(gotSF), len(savoirFaire), len(gotS), len(savoirs))
		}
	}
}

// TestDocumentationSample decodes the fiche-metier example response of the francetravail.io
// documentation (testdata, transcribed with its placeholder values) strictly into our type.
func TestDocumentationSample(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/fiche-metier.francetravail-io-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var fm ftcompat.FicheMetierDetail
	if err := strictDecode(b, &fm); err != nil {
		t.Fatal(err)
	}
	if len(fm.GroupesCompetencesMobilisees) != 1 || len(fm.GroupesCompetencesMobilisees[0].Competences) != 1 || len(fm.GroupesSavoirs) != 1 {
		t.Errorf("%+v", fm)
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	snap := romedata.V460(t)
	m := ftcompat.Metier(build(t, snap, "M1805"))
	jsonOf := func(v any) string {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	got, err := ftcompat.Select(m, "code, libelle,domaineprofessionnel(code,grandDomaine(libelle)),emploicadre")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"code":"M1805","libelle":"Développeur / Développeuse informatique","domaineProfessionnel":{"code":"M18","grandDomaine":{"libelle":"Support à l'entreprise"}},"emploiCadre":true}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// The type always stays; RIASEC only for the type that asks for it.
	got, err = ftcompat.Select(m, "competencesmobiliseesprincipales(code,@macrosavoiretreprofessionnel(riasecmajeur))")
	if err != nil {
		t.Fatal(err)
	}
	var sel struct {
		P []map[string]any `json:"competencesMobiliseesPrincipales"`
	}
	if err := json.Unmarshal(got, &sel); err != nil {
		t.Fatal(err)
	}
	if len(sel.P) != 10 {
		t.Fatalf("%d principales", len(sel.P))
	}
	for _, c := range sel.P {
		wantKeys := 2
		if c["type"] == ftcompat.TypeMacroSavoirEtre {
			wantKeys = 3
		}
		if len(c) != wantKeys || c["type"] == nil || c["code"] == nil {
			t.Errorf("item %v", c)
		}
	}

	if got, err := ftcompat.Select(m, " "); err != nil || string(got) != jsonOf(m) {
		t.Errorf("empty champs: %v", err)
	}
	for _, bad := range []string{"codeRome", "code(libelle)", "domaineprofessionnel(code", "code)", "code,,libelle",
		"@savoir(code)", "competencesmobilisees(@inconnu(code))", "competencesmobilisees(@savoir)", "appellations(peuUsite)"} {
		_, err := ftcompat.Select(m, bad)
		var se *ftcompat.SelectorError
		if !errors.As(err, &se) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
