// Package fiche assembles the whole of a fiche métier from the rows of the referential:
// the document served by GET /v1/fiches/{code} and the source of the France Travail shapes.
package fiche

import "github.com/plateforme-rome/rome/services/referential/client"

// The document types are the referential's public contract (package client); these
// aliases keep the referential's code unchanged.
type (
	Ref             = client.Ref
	Tags            = client.Tags
	Riasec          = client.Riasec
	Appellation     = client.Appellation
	Item            = client.Item
	MacroCompetence = client.MacroCompetence
	Competences     = client.Competences
	SavoirCategorie = client.SavoirCategorie
	Savoir          = client.Savoir
	ContexteType    = client.ContexteType
	Mobilite        = client.Mobilite
	SecteurActivite = client.SecteurActivite
	CentreInteret   = client.CentreInteret
	Theme           = client.Theme
	Textes          = client.Textes
	Fiche           = client.Fiche
)

// Coeur-métier values as the API spells them.
const (
	CoeurPrincipale = client.CoeurPrincipale
	CoeurEmergente  = client.CoeurEmergente
)
