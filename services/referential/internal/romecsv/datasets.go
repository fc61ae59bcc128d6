// Package romecsv knows the official RefRomeCsv export of ROME 4.0: the file of each
// dataset, its exact column layout and its natural key. The referential stores rows in
// this layout, so an export gives back what France Travail published.
package romecsv

import (
	"fmt"
	"strings"
)

// Dataset is one official CSV file (without its version suffix).
type Dataset struct {
	Name    string   // file stem, e.g. "unix_referentiel_code_rome"
	Columns []string // header, in order
	KeyCols []string // natural key (unique in the official files)
	// RomeCol names the column holding the code ROME of the fiche the row belongs
	// to, or "" for datasets shared by every fiche.
	RomeCol string

	index   map[string]int
	keyIdx  []int
	romeIdx int
}

// Col returns the index of a column; an unknown name is a programming error.
func (d *Dataset) Col(name string) int {
	i, ok := d.index[name]
	if !ok {
		panic(fmt.Sprintf("romecsv: %s has no column %q", d.Name, name))
	}
	return i
}

// Key is the natural key of a row, unique within the dataset.
func (d *Dataset) Key(cols []string) string {
	if len(d.keyIdx) == 1 {
		return cols[d.keyIdx[0]]
	}
	parts := make([]string, len(d.keyIdx))
	for i, k := range d.keyIdx {
		parts[i] = cols[k]
	}
	return strings.Join(parts, KeySep)
}

// CodeRome returns the fiche a row belongs to, or "" for shared datasets.
func (d *Dataset) CodeRome(cols []string) string {
	if d.romeIdx < 0 {
		return ""
	}
	return cols[d.romeIdx]
}

// FileName is the official file name for a version number (60 → "..._v460_utf8.csv").
func (d *Dataset) FileName(version int) string {
	return fmt.Sprintf("%s_v4%02d_utf8.csv", d.Name, version)
}

// KeySep joins the parts of a composite key; it never occurs in the data.
const KeySep = "\x1f"

// Dataset names used by the domain code.
const (
	Fiche                 = "unix_referentiel_code_rome"
	Appellation           = "unix_referentiel_appellation"
	GrandDomaine          = "unix_grand_domaine"
	DomainePro            = "unix_domaine_professionnel"
	FicheDomaine          = "unix_cr_gd_dp"
	Arborescence          = "unix_cr_gd_dp_appellations"
	Competence            = "unix_referentiel_competence"
	MacroRiasec           = "unix_referentiel_macro_competence_riasec"
	Savoir                = "unix_referentiel_savoir"
	Contexte              = "unix_referentiel_contexte_travail"
	Item                  = "unix_item"
	Lien                  = "unix_liens_rome_referentiels"
	Coherence             = "unix_coherence_item"
	Bloc                  = "unix_composition_bloc"
	Rubrique              = "unix_descriptif_rubrique"
	Texte                 = "unix_texte"
	Mobilite              = "unix_rubrique_mobilite"
	FicheRiasec           = "unix_referentiel_code_rome_riasec"
	SecteurActivite       = "unix_secteur_activite"
	SousSecteurActivite   = "unix_sous_secteur_activite"
	FicheSecteurActivite  = "unix_arborescence_secteur_activite"
	SecteurNaf            = "unix_secteur_naf"
	FicheSecteurNaf       = "unix_arborescence_secteur_naf"
	CentreInteret         = "unix_centre_interet"
	FicheCentreInteret    = "unix_arborescence_centre_interet"
	Theme                 = "unix_themes"
	FicheTheme            = "unix_arborescence_thematique"
	TypeReferentiel       = "unix_type_referentiel"
	officialDatasetsCount = 28
)

func cols(s string) []string { return strings.Split(s, ",") }

// Datasets lists every file of the official export, in a stable order.
var Datasets = []*Dataset{
	{Name: GrandDomaine, Columns: cols("code_grand_domaine,libelle_grand_domaine"), KeyCols: cols("code_grand_domaine")},
	{Name: DomainePro, Columns: cols("code_domaine_professionnel,libelle_domaine_professionnel"), KeyCols: cols("code_domaine_professionnel")},
	{Name: Fiche, Columns: cols("code_rome,code_fiche_metier,code_ogr,libelle_rome,transition_eco,transition_num,transition_demo,emploi_reglemente,emploi_cadre,code_rome_parent"), KeyCols: cols("code_rome"), RomeCol: "code_rome"},
	{Name: FicheDomaine, Columns: cols("code_rome,libelle_rome,code_grand_domaine,libelle_grand_domaine,code_domaine_professionel,libelle_domaine_professionel"), KeyCols: cols("code_rome"), RomeCol: "code_rome"},
	{Name: FicheRiasec, Columns: cols("code_rome,riasec_majeur,riasec_mineur"), KeyCols: cols("code_rome"), RomeCol: "code_rome"},
	{Name: Appellation, Columns: cols("code_ogr,libelle_appellation_long,libelle_appellation_court,code_rome,transition_eco,transition_num,transition_demo,emploi_reglemente,emploi_cadre,classification,origine,code_rome_parent,peu_usite"), KeyCols: cols("code_ogr"), RomeCol: "code_rome"},
	{Name: Arborescence, Columns: cols("code_grand_domaine,code_domaine_professionnel,numero_fiche_rome,intitule,libelle_appellation_long,libelle_appellation_court,type_provenance,code_fiche,ogr_rome,ogr_appellation"), KeyCols: cols("type_provenance,code_grand_domaine,code_domaine_professionnel,numero_fiche_rome,ogr_appellation")},
	{Name: Competence, Columns: cols("code_ogr,nature,libelle_competence,definition,code_ogr_macro_comp,code_macro_comp,cat_comp,sous_cat_comp,transition_eco,transition_num,libelle_heterogeneite,libelle_origine"), KeyCols: cols("code_ogr")},
	{Name: MacroRiasec, Columns: cols("code_ogr,riasec_majeur,riasec_mineur"), KeyCols: cols("code_ogr")},
	{Name: Savoir, Columns: cols("code_ogr_savoir,libelle_savoir,categorie_savoir,sous_categorie_savoir,transition_eco,transition_num"), KeyCols: cols("code_ogr_savoir")},
	{Name: Contexte, Columns: cols("code_ogr,libelle_cont_travail,code_type_cont_trav,libelle_type_cont_trav"), KeyCols: cols("code_ogr")},
	{Name: Item, Columns: cols("code_ogr,libelle,code_rubrique"), KeyCols: cols("code_ogr")},
	{Name: Bloc, Columns: cols("code_compo_bloc,libelle_bloc"), KeyCols: cols("code_compo_bloc")},
	{Name: Rubrique, Columns: cols("code_rubrique,code_compo_bloc,position_rubrique,libelle_rubrique"), KeyCols: cols("code_rubrique")},
	{Name: Lien, Columns: cols("code_rome,code_compo_bloc,code_rubrique,code_ogr"), KeyCols: cols("code_rome,code_compo_bloc,code_rubrique,code_ogr"), RomeCol: "code_rome"},
	{Name: Coherence, Columns: cols("code_rome,code_ogr,coeur_metier"), KeyCols: cols("code_rome,code_ogr"), RomeCol: "code_rome"},
	{Name: Texte, Columns: cols("code_rome,code_compo_bloc,libelle_type_texte,position_phrase,libelle_texte"), KeyCols: cols("code_rome,libelle_type_texte,position_phrase"), RomeCol: "code_rome"},
	{Name: Mobilite, Columns: cols("code_rome,code_rome_cible,numero_ordre"), KeyCols: cols("code_rome,code_rome_cible"), RomeCol: "code_rome"},
	{Name: SecteurActivite, Columns: cols("code_sect_activite,libelle_sect_activite,definition_sect_activite"), KeyCols: cols("code_sect_activite")},
	{Name: SousSecteurActivite, Columns: cols("code_ss_sect_activite,libelle_ss_sect_activite,definition_ss_sect_activite,code_sect_activite"), KeyCols: cols("code_ss_sect_activite")},
	{Name: FicheSecteurActivite, Columns: cols("code_sect_activite,libelle_sect_activite,code_ss_sect_activite,libelle_ss_sect_activite,code_ogr_rome,code_rome,libelle_rome,principal"), KeyCols: cols("code_rome,code_sect_activite,code_ss_sect_activite"), RomeCol: "code_rome"},
	{Name: SecteurNaf, Columns: cols("code_tech_secteur_naf,code_secteur_naf,libelle_secteur_naf"), KeyCols: cols("code_tech_secteur_naf")},
	{Name: FicheSecteurNaf, Columns: cols("code_secteur_naf,libelle_secteur_naf,code_ogr_rome,code_rome,libelle_rome"), KeyCols: cols("code_rome,code_secteur_naf"), RomeCol: "code_rome"},
	{Name: CentreInteret, Columns: cols("code_centre_interet,libelle_centre_interet,definition_centre_interet"), KeyCols: cols("code_centre_interet")},
	{Name: FicheCentreInteret, Columns: cols("code_centre_interet,libelle_centre_interet,code_ogr_rome,code_rome,libelle_rome,principal"), KeyCols: cols("code_rome,code_centre_interet"), RomeCol: "code_rome"},
	{Name: Theme, Columns: cols("code_theme,libelle_theme,definition_theme"), KeyCols: cols("code_theme")},
	{Name: FicheTheme, Columns: cols("code_theme,libelle_theme,code_ogr_rome,code_rome,libelle_rome"), KeyCols: cols("code_rome,code_theme"), RomeCol: "code_rome"},
	{Name: TypeReferentiel, Columns: cols("code_type_referentiel,libelle_type_referentiel"), KeyCols: cols("code_type_referentiel")},
}

var byName = map[string]*Dataset{}

func init() {
	if len(Datasets) != officialDatasetsCount {
		panic("romecsv: dataset list out of date")
	}
	for _, d := range Datasets {
		d.index = make(map[string]int, len(d.Columns))
		for i, c := range d.Columns {
			d.index[c] = i
		}
		for _, k := range d.KeyCols {
			d.keyIdx = append(d.keyIdx, d.Col(k))
		}
		d.romeIdx = -1
		if d.RomeCol != "" {
			d.romeIdx = d.Col(d.RomeCol)
		}
		byName[d.Name] = d
	}
}

// ByName returns the dataset with that file stem, or nil.
func ByName(name string) *Dataset { return byName[name] }

// MustByName is ByName for names known at compile time.
func MustByName(name string) *Dataset {
	d := byName[name]
	if d == nil {
		panic("romecsv: unknown dataset " + name)
	}
	return d
}
