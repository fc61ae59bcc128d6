// Package fiche assembles the whole of a fiche métier from the rows of the referential:
// the document served by GET /v1/fiches/{code} and the source of the France Travail shapes.
package fiche

import "github.com/plateforme-rome/rome/clients/refclient"

// The document types are the referential's public contract (package client); these
// aliases keep the referential's code unchanged.
type (
	Ref             = refclient.Ref
	Tags            = refclient.Tags
	Riasec          = refclient.Riasec
	Appellation     = refclient.Appellation
	Item            = refclient.Item
	MacroCompetence = refclient.MacroCompetence
	Competences     = refclient.Competences
	SavoirCategorie = refclient.SavoirCategorie
	Savoir          = refclient.Savoir
	ContexteType    = refclient.ContexteType
	Mobilite        = refclient.Mobilite
	SecteurActivite = refclient.SecteurActivite
	CentreInteret   = refclient.CentreInteret
	Theme           = refclient.Theme
	Textes          = refclient.Textes
	Fiche           = refclient.Fiche
)

// Coeur-métier values as the API spells them.
const (
	CoeurPrincipale = refclient.CoeurPrincipale
	CoeurEmergente  = refclient.CoeurEmergente
)
