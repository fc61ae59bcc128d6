package request

import (
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	line250 := TextRule{Name: "libellé", Max: 250}
	cases := []struct {
		name  string
		value string
		rule  TextRule
		want  string // the cleaned text; "" with a problem
		wrong string // a piece of the problem's message; "" when the text passes
	}{
		{"plain", "Développeur / Développeuse Rust", LibelleRule, "Développeur / Développeuse Rust", ""},
		{"empty passes", "", LibelleRule, "", ""},
		{"trimmed", "  \u00a0Boulanger\t \n", LongTextRule, "Boulanger", ""},
		{"trimmed single line", "  Boulanger  ", LibelleRule, "Boulanger", ""},
		{"combining sequence to NFC", "De\u0301veloppeur", LibelleRule, "Développeur", ""},
		{"NFC counts characters, not code points", strings.Repeat("e\u0301", 250), line250, strings.Repeat("é", 250), ""},
		{"CRLF folded in multi-line", "Ligne 1\r\nLigne 2\r\n\tpuce", LongTextRule, "Ligne 1\nLigne 2\n\tpuce", ""},
		{"tab in multi-line", "1.\tNe pas avoir fait l'objet d'une condamnation", LongTextRule, "1.\tNe pas avoir fait l'objet d'une condamnation", ""},
		{"250 characters", strings.Repeat("é", 250), line250, strings.Repeat("é", 250), ""},
		{"251 characters", strings.Repeat("é", 251), line250, "", "at most 250 characters (it has 251)"},
		{"over the libellé limit", strings.Repeat("a", MaxLibelle+1), LibelleRule, "", "at most 400 characters"},
		{"10,000 characters of text", strings.Repeat("x", MaxText), LongTextRule, strings.Repeat("x", MaxText), ""},
		{"10,001 characters of text", strings.Repeat("x", MaxText+1), LongTextRule, "", "at most 10000 characters (it has 10001)"},
		{"NUL", "Boulan\x00ger", LibelleRule, "", "control character U+0000 at character 7"},
		{"NUL in multi-line", "Boulan\x00ger", LongTextRule, "", "U+0000"},
		{"BEL", "Boulanger\a", LongTextRule, "", "control character U+0007"},
		{"DEL", "Boulanger\x7f", LibelleRule, "", "U+007F"},
		{"C1", "l\u0092étranger", LibelleRule, "", "U+0092"},
		{"invalid UTF-8", "Boulang\xe8re", LibelleRule, "", "not valid UTF-8 (at character 8)"},
		{"replacement character", "Boulang\ufffdre", LibelleRule, "", "U+FFFD"},
		{"right-to-left override", "Boulanger\u202Eexe.txt", LibelleRule, "", "bidirectional control U+202E"},
		{"left-to-right isolate", "\u2066Boulanger", LongTextRule, "", "bidirectional control U+2066"},
		{"right-to-left mark", "Boulanger\u200F", LibelleRule, "", "U+200F"},
		{"Arabic letter mark", "Boulanger\u061C", LibelleRule, "", "U+061C"},
		{"tab in single-line", "Boulanger\tPâtissier", TitleRule, "", "tab (U+0009) at character 10"},
		{"line break in single-line", "Boulanger\nPâtissier", TitleRule, "", "line break (U+000A)"},
		{"CRLF in single-line", "Boulanger\r\nPâtissier", TitleRule, "", "carriage return"},
		{"lone CR in multi-line", "Boulanger\rPâtissier", LongTextRule, "", "carriage return (U+000D)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, p := CheckText("operations[2].libelle", tc.value, tc.rule)
			if tc.wrong == "" {
				if p != nil {
					t.Fatalf("refused: %v", p)
				}
				if got != tc.want {
					t.Fatalf("cleaned to %q, want %q", got, tc.want)
				}
				return
			}
			if p == nil {
				t.Fatalf("accepted as %q", got)
			}
			if p.Field != "operations[2].libelle" || !strings.Contains(p.Message, tc.wrong) || !strings.Contains(p.Message, tc.rule.String()) {
				t.Fatalf("problem %+v: want the field, %q and the rule %q", p, tc.wrong, tc.rule)
			}
		})
	}
}

func TestCleanOperation(t *testing.T) {
	t.Parallel()
	coeur, eco := " PRINCIPALE ", "Emploi Vert"
	ops := []Operation{
		{Op: "add_appellation", Libelle: " De\u0301veloppeur Rust ", LibelleCourt: "Dev Rust\u202E"},
		{Op: "create_fiche", Libelle: "Fiche", Definition: "A\r\nB", AppellationPrincipale: &refclient.AppellationPrincipale{Libelle: "Nou\x00velle"}},
		{ID: " mine ", Op: "add_competence", CoeurMetier: &coeur, New: &refclient.NewItem{Libelle: "Coder\a"}},
		{Op: "set_tags", TransitionEcologique: &eco},
	}
	problems := CleanOperations("operations", ops)
	var fields []string
	for _, p := range problems {
		fields = append(fields, p.Field)
	}
	want := []string{"operations[0].libelleCourt", "operations[1].appellationPrincipale.libelle", "operations[2].new.libelle"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Fatalf("problems on %v, want %v", fields, want)
	}
	if ops[0].Libelle != "Développeur Rust" || ops[0].LibelleCourt != "Dev Rust\u202E" {
		t.Fatalf("operation 0 cleaned to %+v: the good field cleaned, the bad one left", ops[0])
	}
	if ops[1].Definition != "A\nB" || ops[2].ID != "mine" || *ops[2].CoeurMetier != "PRINCIPALE" || coeur != " PRINCIPALE " {
		t.Fatalf("cleaned to %+v %+v (the caller's pointers untouched)", ops[1], ops[2])
	}
}
