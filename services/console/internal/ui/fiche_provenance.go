package ui

// The provenance section of the fiche page: where each element of the fiche comes from.

import (
	"github.com/plateforme-rome/rome/clients/refclient"
)

// provenanceKinds word the kinds of elements of a fiche.
var provenanceKinds = map[string]string{
	"fiche": "Fiche", "appellation": "Appellation", "competence": "Compétence", "savoir": "Savoir",
	"contexte": "Contexte de travail", "mobilite": "Mobilité vers",
}

// provenanceTexts word the texts of a fiche.
var provenanceTexts = map[string]string{"definition": "Définition", "accesEmploi": "Accès à l'emploi"}

// provenanceOrigin is a version and what made it, as the page shows it.
type provenanceOrigin struct {
	Version   int
	Import    bool   // an official release of France Travail
	Label     string // the release's label, for an import
	RequestID string // the request behind a change set, "" when none is known
}

type provenanceLine struct {
	Kind, Libelle, Code string
	Introduced          provenanceOrigin
	// Changed is the last change since the introduction; nil when there was none.
	Changed *provenanceOrigin
}

// ficheProvenance is the section's content. A fiche counts a hundred or more elements, most
// of them as the official import brought them: listing them all would triple the page, so
// the section counts those and lists only the elements a request (or a later release)
// introduced or changed.
type ficheProvenance struct {
	Known     bool // false when the referential did not answer
	Baseline  *provenanceOrigin
	Unchanged int
	Lines     []provenanceLine
}

func originOf(o refclient.Origin) provenanceOrigin {
	return provenanceOrigin{Version: o.Version, Import: o.Source == refclient.OriginImport, Label: o.Label, RequestID: o.RequestID}
}

// buildProvenance words the referential's provenance of a fiche; p nil: it did not answer.
func buildProvenance(p *refclient.Provenance) ficheProvenance {
	if p == nil {
		return ficheProvenance{}
	}
	out := ficheProvenance{Known: true}
	baseline := 0
	for _, el := range p.Elements {
		if baseline == 0 || el.Introduced.Version < baseline {
			baseline = el.Introduced.Version
		}
	}
	for _, el := range p.Elements {
		in := originOf(el.Introduced)
		if in.Import && in.Version == baseline && el.LastChanged.Version == baseline {
			out.Unchanged++
			if out.Baseline == nil {
				out.Baseline = &in
			}
			continue
		}
		line := provenanceLine{Kind: orRaw(provenanceKinds[el.Kind], el.Kind), Libelle: el.Libelle, Code: el.CodeOgr, Introduced: in}
		switch el.Kind {
		case "texte":
			line.Kind, line.Libelle = orRaw(provenanceTexts[el.Field], el.Field), ""
		case "fiche", "mobilite":
			line.Code = el.CodeRome
		}
		if el.LastChanged.Version != el.Introduced.Version {
			ch := originOf(el.LastChanged)
			line.Changed = &ch
		}
		out.Lines = append(out.Lines, line)
	}
	return out
}
