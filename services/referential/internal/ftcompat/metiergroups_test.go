package ftcompat_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/ftcompat"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
)

// The documented shapes of theme/{code}, centre-interet/{code} and secteur-activite/{code}
// (francetravail.io, API doc version 12.0): their métiers as a domaine lists them.
type ftMetierInGroup struct {
	Code         string  `json:"code"`
	Libelle      string  `json:"libelle"`
	RiasecMajeur *string `json:"riasecMajeur"`
	RiasecMineur *string `json:"riasecMineur"`
	CodeIsco     *string `json:"codeIsco"`
	ftTags
	Appellations []struct {
		Code           string `json:"code"`
		Libelle        string `json:"libelle"`
		Classification string `json:"classification"`
		ftTags
	} `json:"appellations"`
}

type ftMetierGroup struct {
	Code       string            `json:"code"`
	Libelle    string            `json:"libelle"`
	Definition *string           `json:"definition"`
	Metiers    []ftMetierInGroup `json:"metiers"`
}

type ftSecteurActiviteDetail struct {
	ftMetierGroup
	SecteurActivite *ftRef `json:"secteurActivite"`
}

// groupsOfV460 renders the groups of the official export, from every fiche's encoded
// métier as a domaine lists it.
func groupsOfV460(t *testing.T) ftcompat.MetierGroups {
	snap := romedata.V460(t)
	var codes []string
	var resumes [][]byte
	for _, r := range snap.T(romecsv.Fiche).Rows() {
		codes = append(codes, r.Cols[0])
	}
	slices.Sort(codes)
	for _, code := range codes {
		b, err := json.Marshal(ftcompat.MetierInDomaine(build(t, snap, code)))
		if err != nil {
			t.Fatal(err)
		}
		resumes = append(resumes, b)
	}
	return ftcompat.Groups(snap, codes, resumes)
}

func metierCodes(t *testing.T, g ftMetierGroup) []string {
	t.Helper()
	out := make([]string, len(g.Metiers))
	for i, m := range g.Metiers {
		out[i] = m.Code
	}
	if !slices.IsSorted(out) || len(slices.Compact(slices.Clone(out))) != len(out) {
		t.Errorf("%s: métiers not once each in code order: %v", g.Code, out)
	}
	return out
}

func TestGroups(t *testing.T) {
	t.Parallel()
	g := groupsOfV460(t)
	if len(g.Themes) != 17 || len(g.CentresInterets) != 30 || len(g.SecteursActivites) != 35+40 {
		t.Fatalf("%d thèmes, %d centres d'intérêt, %d secteurs", len(g.Themes), len(g.CentresInterets), len(g.SecteursActivites))
	}
	for _, group := range slices.Concat(g.Themes, g.CentresInterets) {
		var mirror ftMetierGroup
		roundTrip(t, group, &mirror)
		if mirror.Definition == nil || len(metierCodes(t, mirror)) == 0 {
			t.Errorf("%s %q: definition %v, %d métiers", mirror.Code, mirror.Libelle, mirror.Definition, len(mirror.Metiers))
		}
	}
	if th := g.Themes[0]; th.Code != "001" || th.Libelle != "Métiers de l'environnement et du développement durable" {
		t.Errorf("first thème %s %q", th.Code, th.Libelle)
	}

	secteurs := map[string]ftSecteurActiviteDetail{}
	for _, s := range g.SecteursActivites {
		var mirror ftSecteurActiviteDetail
		roundTrip(t, s, &mirror)
		metierCodes(t, mirror.ftMetierGroup)
		secteurs[mirror.Code] = mirror
	}
	juridique, sousSecteur := secteurs["110"], secteurs["145"]
	if juridique.SecteurActivite != nil || juridique.Definition == nil || sousSecteur.Definition != nil ||
		sousSecteur.SecteurActivite == nil || *sousSecteur.SecteurActivite != (ftRef{"110", juridique.Libelle}) {
		t.Errorf("secteur 110 %+v, sous-secteur 145 %+v", juridique.SecteurActivite, sousSecteur.SecteurActivite)
	}
	inSecteur := metierCodes(t, juridique.ftMetierGroup)
	for _, code := range metierCodes(t, sousSecteur.ftMetierGroup) {
		if !slices.Contains(inSecteur, code) {
			t.Errorf("%s is in sous-secteur 145 and not in its secteur 110", code)
		}
	}
}

func TestMetierFilter(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"R": "R", "c": "C", "Réaliste": "R", "INVESTIGATIF": "I", " social ": "S", "X": "", "Realiste": "", "": ""} {
		if got, ok := ftcompat.RiasecLetter(in); got != want || ok != (want != "") {
			t.Errorf("RiasecLetter(%q) = %q, %v", in, got, ok)
		}
	}
	ix := ftcompat.NewMetierIndex(romedata.V460(t))
	for _, c := range []struct {
		f    ftcompat.MetierFilter
		code string
		keep bool
	}{
		{ftcompat.MetierFilter{}, "M1805", true},
		{ftcompat.MetierFilter{RiasecMajeur: "I", RiasecMineur: "C"}, "M1805", true}, // M1805 is I, C
		{ftcompat.MetierFilter{RiasecMajeur: "C"}, "M1805", false},
		{ftcompat.MetierFilter{CodeNaf: "01"}, "A1101", true}, // the export writes the division 01 as 1
		{ftcompat.MetierFilter{CodeNaf: "1"}, "A1101", true},
		{ftcompat.MetierFilter{CodeNaf: "62"}, "A1101", false},
		{ftcompat.MetierFilter{CodeCompetence: "100023"}, "A1102", true}, // Abattre un arbre
		{ftcompat.MetierFilter{CodeCompetence: "100023"}, "A1101", false},
		{ftcompat.MetierFilter{RiasecMajeur: "R", CodeCompetence: "999999999"}, "A1101", false},
	} {
		if got := ix.Keeps(c.f, c.code); got != c.keep {
			t.Errorf("%+v keeps %s: %v", c.f, c.code, got)
		}
	}
}
