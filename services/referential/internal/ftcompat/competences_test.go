package ftcompat_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/ftcompat"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
)

func TestCompetences(t *testing.T) {
	t.Parallel()
	items := ftcompat.Competences(romedata.V460(t))
	count := map[string]int{}
	byCode := map[string]ftcompat.CompetenceDetail{}
	for _, it := range items {
		count[it.Type]++
		byCode[it.Code] = it
		if it.Code != it.CodeOgr || it.Obsolete {
			t.Fatalf("item %+v", it)
		}
	}
	if count[ftcompat.TypeCompetenceDetaillee] != 17810 || count[ftcompat.TypeMacroSavoirFaire]+count[ftcompat.TypeMacroSavoirEtre] != 507 ||
		count[ftcompat.TypeSavoir] != 15354 || count[ftcompat.TypeMacroSavoirEtre] == 0 {
		t.Errorf("counts %v", count)
	}
	// 100023 "Abattre un arbre" sits under macro-compétence 300230.
	c := byCode["100023"]
	if c.Libelle != "Abattre un arbre" || c.MacroCompetence == nil || c.MacroCompetence.Code != "300230" || c.TransitionNumerique == nil || *c.TransitionNumerique {
		t.Errorf("100023 %+v", c)
	}
	m := *c.MacroCompetence
	if o := m.Objectif; o == nil || o.CodeArborescence != m.CodeArborescence[:3] || o.Enjeu.DomaineCompetence.CodeArborescence != m.CodeArborescence[:1] {
		t.Errorf("macro %+v", m)
	}
	s := byCode["100007"]
	if s.Type != ftcompat.TypeSavoir || s.CategorieSavoir.Categorie.Libelle != "Techniques professionnelles" || s.CategorieSavoir.Code != "" {
		t.Errorf("savoir %+v", s)
	}
	if got := len(ftcompat.Contextes(romedata.V460(t))); got != 179 {
		t.Errorf("%d contextes", got)
	}
}

// A list of compétences narrowed by typed selectors, nested ones and @macrocompetence (both
// macro types) included, without decoding.
func TestProjectTypedList(t *testing.T) {
	t.Parallel()
	items := ftcompat.Competences(romedata.V460(t))
	sel, err := ftcompat.Parse("code,@competencedetaillee(macrocompetence(@macrosavoirfaire(codearborescence))),@macrocompetence(riasecmajeur),@savoir(categoriesavoir(categorie(libelle)))",
		reflect.TypeOf(items))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(items)
	var got []map[string]any
	if err := json.Unmarshal(sel.Project(b), &got); err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		switch c["type"] {
		case ftcompat.TypeCompetenceDetaillee:
			mc := c["macroCompetence"].(map[string]any)
			if len(c) != 3 || len(mc) != 2 || mc["codeArborescence"] == nil {
				t.Fatalf("détaillée %v", c)
			}
		case ftcompat.TypeSavoir:
			if len(c) != 3 || len(c["categorieSavoir"].(map[string]any)) != 1 {
				t.Fatalf("savoir %v", c)
			}
		default:
			if _, has := c["codeArborescence"]; has || c["code"] == nil {
				t.Fatalf("macro %v", c)
			}
		}
	}
}
