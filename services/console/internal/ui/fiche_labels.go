package ui

// The words of a fiche's values, shared by the fiche and the comparison of two versions.

import "github.com/plateforme-rome/rome/services/console/internal/backend"

// ficheTagLine is an indicator of the fiche, in words.
type ficheTagLine struct{ Label, Value string }

func ficheTags(t backend.Tags) []ficheTagLine {
	return []ficheTagLine{
		{"Transition écologique", orRaw(t.TransitionEcologique, "Non renseigné")},
		{"Transition numérique", flagText(t.TransitionNumerique)},
		{"Transition démographique", flagText(t.TransitionDemographique)},
		{"Emploi réglementé", flagText(t.EmploiReglemente)},
		{"Emploi cadre", flagText(t.EmploiCadre)},
	}
}

func flagText(b *bool) string {
	switch {
	case b == nil:
		return "Non renseigné"
	case *b:
		return "Oui"
	}
	return "Non"
}

// coeurText words a cœur de métier flag.
func coeurText(c *string) string {
	if c == nil {
		return ""
	}
	switch *c {
	case "PRINCIPALE":
		return "Principale"
	case "EMERGENTE":
		return "Émergente"
	}
	return *c
}

func classificationText(c string) string {
	switch c {
	case "PRINCIPALE":
		return "Principale"
	case "SYNONYME":
		return "Synonyme"
	}
	return c
}
