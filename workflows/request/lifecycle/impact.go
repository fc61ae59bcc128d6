package lifecycle

import (
	"fmt"
	"strings"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// maxNamed bounds the codes a finding names; the moderator's page lists them all.
const maxNamed = 10

// impactFindings words what an operation touches beyond its change as warnings for the
// moderator. They come from the dry run's result, recorded in the history: a history
// recorded before the referential reported impacts replays with none, so no version
// guard is needed.
func impactFindings(r refclient.Result) []request.Finding {
	im := r.Impact
	if im == nil {
		return nil
	}
	var out []request.Finding
	add := func(code, field, msg string) {
		out = append(out, request.Finding{Code: code, Severity: request.SeverityWarning, OperationID: r.OperationID, Field: field, Message: msg})
	}
	fiches := strings.Join(im.Fiches, ", ")
	if n := len(im.Mobilites); n > 0 {
		codes := make([]string, n)
		for i, m := range im.Mobilites {
			codes[i] = m.CodeRome + "→" + m.CodeRomeCible
		}
		add(request.FindingImpactMobilites, "", fmt.Sprintf("%d mobilité(s) of other fiches lead to %s: %s", n, fiches, named(codes)))
	}
	if n := len(im.OrphanAppellations); n > 0 {
		add(request.FindingImpactOrphanAppellations, "replacedBy", fmt.Sprintf("%d appellation(s) left without a fiche nor a replacement: %s", n, named(refs(im.OrphanAppellations))))
	}
	if n := len(im.OrphanItems); n > 0 {
		add(request.FindingImpactOrphanItems, "codeOgr", fmt.Sprintf("no fiche carries %s any more", named(refs(im.OrphanItems))))
	}
	if im.Subscribers > 0 {
		add(request.FindingImpactSubscribers, "", fmt.Sprintf("%d webhook endpoint(s) are notified of changes to %s", im.Subscribers, fiches))
	}
	return out
}

func refs(rs []refclient.ImpactRef) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%s %q", r.CodeOgr, r.Libelle)
	}
	return out
}

// named lists at most maxNamed of items, saying how many more there are.
func named(items []string) string {
	if len(items) <= maxNamed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxNamed], ", "), len(items)-maxNamed)
}
