package romecsv

import "strings"

// The codes and values of the official files that carry a meaning the referential relies
// on: where a fiche's elements are linked, what an arborescence row is, how an appellation
// or a compétence is classified. They are named here, next to the files' layout, because
// this package is the one that knows the official export: the fiche documents, the
// change-set engine, the importer's integrity rules and the search read them from here
// rather than each spelling "5" or "PRINCIPALE" again. SOURCE.md (shared/data/rome4)
// documents each file.

// Blocs of a fiche (code_compo_bloc, labelled in unix_composition_bloc), as the links of
// unix_liens_rome_referentiels and the sentences of unix_texte name them. Blocs 7
// (secteurs d'activité) and 8 (mobilité professionnelle) have files of their own and no
// link rows.
const (
	BlocFiche        = "1" // "Code ROME et intitulé": links the fiche to its own code OGR
	BlocAppellations = "2" // "Emplois": the fiche's appellations
	BlocDefinition   = "3" // "Définition": the sentences of the definition
	BlocAccesMetier  = "4" // "Accès au métier": the sentences of the accès à l'emploi
	BlocCompetences  = "5" // "Compétences": savoir-faire, savoir-être professionnels and savoirs, one rubrique each
	BlocContextes    = "6" // "Contextes de travail"
)

// Rubriques of bloc 5 (code_rubrique, labelled in unix_descriptif_rubrique), in the links
// and in unix_item. The links of the other blocs and the items of contextes have none.
const (
	RubriqueNone        = ""
	RubriqueSavoirFaire = "1" // "Savoir-faire": compétences and their macro-compétences
	RubriqueSavoirEtre  = "2" // "Savoir-être professionnels": macro-compétences only
	RubriqueSavoirs     = "3" // "Savoirs"
)

// LinksItem tells whether the links of a bloc put items (compétences, savoirs, contextes)
// on fiches: those pairs, and only those, have their row in unix_coherence_item.
func LinksItem(bloc string) bool { return bloc == BlocCompetences || bloc == BlocContextes }

// What a row of the arborescence is (type_provenance of unix_cr_gd_dp_appellations). Types
// 1 and 2 are the grands domaines and domaines professionnels, which the platform never
// writes.
const (
	ProvenanceFiche       = "3"
	ProvenanceAppellation = "4"
)

// FicheArboKey is the key of the arborescence row of a fiche: M1805 is under grand
// domaine M, domaine 18, number 05.
func FicheArboKey(codeRome string) string {
	return strings.Join([]string{ProvenanceFiche, codeRome[:1], codeRome[1:3], codeRome[3:], ""}, KeySep)
}

// AppellationArboKey is the key of the arborescence row of an appellation, which names
// neither domaine nor fiche in its key.
func AppellationArboKey(ogr string) string {
	return strings.Join([]string{ProvenanceAppellation, "", "", "", ogr}, KeySep)
}

// Classifications of an appellation (unix_referentiel_appellation): each fiche has exactly
// one PRINCIPALE, whose label is the fiche's.
const (
	ClassificationPrincipale = "PRINCIPALE"
	ClassificationSynonyme   = "SYNONYME"
)

// Natures and categories of the rows of unix_referentiel_competence: compétences sit under
// a macro-compétence of savoir-faire; savoir-être professionnels are macro-compétences.
const (
	NatureCompetence      = "Compétence"
	NatureMacroCompetence = "Macro-compétence"
	CategorieSavoirFaire  = "Savoir-faire"
	CategorieSavoirEtre   = "Savoir-être professionnel"
)

// Values of coeur_metier in unix_coherence_item ("" when the item is neither); the API
// spells them refclient.CoeurPrincipale and refclient.CoeurEmergente.
const (
	CoeurMetierPrincipale = "Principale"
	CoeurMetierEmergente  = "Émergente"
)

// Texts of a fiche (libelle_type_texte of unix_texte), in blocs 3 and 4.
const (
	TexteDefinition  = "definition"
	TexteAccesMetier = "acces_metier"
)

// The official yes/no flags (transition_num, emploi_cadre, peu_usite…); empty is unknown.
const (
	FlagYes = "O"
	FlagNo  = "N"
)
