package ui

// The request form's search pickers: a code field's search in the referential, run when the
// form is shown again, and its live results (GET /referentiel/recherche).

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

const pickerHits = 10

// pickerSearch answers a picker's live search (htmx: the results, as radio buttons named
// <target>.pick); without htmx it is a small page of results.
func (h *handlers) pickerSearch(c *gin.Context) {
	kind, target := c.Query("kind"), c.Query("target")
	if _, ok := pickerLabels[kind]; !ok || !formName.MatchString(target) {
		h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Cette recherche n'existe pas.", Back: newRequestURL, BackLabel: "Retour au formulaire de demande"})
		return
	}
	q := c.Query("q")
	if q == "" {
		q = c.Query(target + ".q")
	}
	pv := h.searchPicker(c.Request.Context(), target, kind, q)
	pv.FormURL, pv.FormID = newRequestURL, newRequestID
	page := &newRequestPage{PickerPage: pv}
	if pv.Searched && pv.Err == "" {
		page.Live = resultsAnnouncement(pv)
	}
	if reqHTMX(c) {
		c.Request.Header.Set("HX-Target", "picker")
	}
	h.render(c, http.StatusOK, "request_new", view{Title: "Recherche dans le référentiel", Section: "nouvelle", Data: page})
}

// pickerLabels are the search fields' labels, by what they look for.
var pickerLabels = map[string]string{
	pickAppellations: "Rechercher une appellation",
	pickCompetences:  "Rechercher une compétence",
	pickSavoirs:      "Rechercher un savoir",
	pickContextes:    "Rechercher un contexte de travail",
	pickFiches:       "Rechercher une fiche par intitulé ou appellation",
	pickMacros:       "Rechercher une macro-compétence par l'une de ses compétences",
}

// pickerView is a field's search: its query and results (radio buttons <Target>.pick).
type pickerView struct {
	Target, ID, Kind, Query, QueryLabel string
	Searched, TooShort                  bool
	Hits                                []pickerHit
	Err                                 string
	// FormURL and FormID: where picking a result re-renders the form with htmx (none
	// when empty: the pick applies at the form's next post).
	FormURL, FormID string
}

// SearchURL is the live search of this picker.
func (p *pickerView) SearchURL() string {
	return "/referentiel/recherche?" + url.Values{"kind": {p.Kind}, "target": {p.Target}}.Encode()
}

// pickerHit is a search result to pick: its value is "code|codeRome|libellé".
type pickerHit struct {
	ID, Value, Label, Detail string
	Autofocus                bool
}

func resultsAnnouncement(pv *pickerView) string {
	switch n := len(pv.Hits); {
	case pv.Err != "":
		return pv.Err
	case n == 0:
		return "Aucun résultat pour « " + pv.Query + " »."
	case n == 1:
		return "1 résultat pour « " + pv.Query + " »."
	default:
		return fmt.Sprintf("%d résultats pour « %s ».", n, pv.Query)
	}
}

// searchPicker runs a picker's search.
func (h *handlers) searchPicker(ctx context.Context, target, kind, q string) *pickerView {
	q = strings.TrimSpace(q)
	pv := &pickerView{Target: target, ID: formID(target), Kind: kind, Query: q, QueryLabel: pickerLabels[kind]}
	if n := utf8.RuneCountInString(q); n < formMinQuery {
		pv.TooShort = n > 0
		return pv
	}
	pv.Searched = true
	hits, err := h.pickerResults(ctx, kind, q)
	if e, ok := backend.AsError(err); ok && e.Status == http.StatusUnprocessableEntity {
		err = nil
	}
	if err != nil {
		slog.WarnContext(ctx, "picker search failed", "kind", kind, "error", err)
		pv.Err = "La recherche n'a pas abouti : le référentiel ne répond pas. Réessayez, ou saisissez le code."
		return pv
	}
	for i := range hits {
		hits[i].ID = fmt.Sprintf("%s-pick-%d", pv.ID, i)
	}
	pv.Hits = hits
	return pv
}

func pickValue(code, codeRome, label string) string { return code + "|" + codeRome + "|" + label }

// pickerResults asks the referential for up to pickerHits results.
func (h *handlers) pickerResults(ctx context.Context, kind, q string) ([]pickerHit, error) {
	ref := h.Backend.Referential
	var out []pickerHit
	switch kind {
	case pickAppellations, pickCompetences, pickSavoirs:
		hits, err := ref.Search(ctx, kind, q, pickerHits)
		if err != nil {
			return nil, err
		}
		for _, hit := range hits {
			detail := "Code OGR " + hit.CodeOgr
			switch {
			case hit.Fiche != nil:
				detail += " · fiche " + hit.Fiche.Code + " " + hit.Fiche.Libelle
			case hit.CodeRome != "":
				detail += " · fiche " + hit.CodeRome
			}
			if hit.MacroCompetence != nil {
				detail += " · macro-compétence « " + hit.MacroCompetence.Libelle + " »"
			}
			if hit.Categorie != "" {
				detail += " · " + hit.Categorie
			}
			out = append(out, pickerHit{Value: pickValue(hit.CodeOgr, hit.CodeRome, hit.Libelle), Label: hit.Libelle, Detail: detail})
		}
	case pickMacros:
		hits, err := ref.Search(ctx, backend.SearchCompetences, q, 3*pickerHits)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, hit := range hits {
			m := hit.MacroCompetence
			if m == nil || seen[m.Code] || len(out) == pickerHits {
				continue
			}
			seen[m.Code] = true
			out = append(out, pickerHit{Value: pickValue(m.Code, "", m.Libelle), Label: m.Libelle,
				Detail: "Code OGR " + m.Code + " · par la compétence « " + hit.Libelle + " »"})
		}
	case pickFiches:
		fiches, err := ref.Fiches(ctx, q, pickerHits)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, fs := range fiches {
			seen[fs.CodeRome] = true
			out = append(out, pickerHit{Value: pickValue(fs.CodeRome, fs.CodeRome, fs.Libelle), Label: fs.CodeRome + " – " + fs.Libelle,
				Detail: "Domaine : " + fs.DomaineProfessionnel.Libelle})
		}
		if len(out) < pickerHits {
			hits, err := ref.Search(ctx, backend.SearchAppellations, q, pickerHits)
			if err != nil {
				return nil, err
			}
			for _, hit := range hits {
				if hit.CodeRome == "" || seen[hit.CodeRome] || len(out) == pickerHits {
					continue
				}
				seen[hit.CodeRome] = true
				label := hit.CodeRome
				if hit.Fiche != nil {
					label += " – " + hit.Fiche.Libelle
				}
				out = append(out, pickerHit{Value: pickValue(hit.CodeRome, hit.CodeRome, strings.TrimPrefix(label, hit.CodeRome+" – ")),
					Label: label, Detail: "Par l'appellation « " + hit.Libelle + " »"})
			}
		}
	case pickContextes:
		all, err := h.allContextes(ctx)
		if err != nil {
			return nil, err
		}
		words := strings.Fields(reqFold(q))
		for _, ct := range all {
			text := reqFold(ct.Libelle + " " + ct.Type.Libelle + " " + ct.CodeOgr)
			if !reqAllIn(words, text) {
				continue
			}
			out = append(out, pickerHit{Value: pickValue(ct.CodeOgr, "", ct.Libelle), Label: ct.Libelle,
				Detail: "Code OGR " + ct.CodeOgr + " · " + ct.Type.Libelle})
			if len(out) == pickerHits {
				break
			}
		}
	}
	return out, nil
}

func reqAllIn(words []string, text string) bool {
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

var reqFolder = strings.NewReplacer("à", "a", "â", "a", "ä", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ÿ", "y", "œ", "oe", "æ", "ae", "’", "'")

// reqFold lowers a text and drops its accents, for matching.
func reqFold(s string) string { return reqFolder.Replace(strings.ToLower(s)) }

// The contextes de travail change only with a referential version: kept ten minutes.
var contextesCache = struct {
	sync.Mutex
	by map[*backend.Referential]cachedContextes
}{by: map[*backend.Referential]cachedContextes{}}

type cachedContextes struct {
	items []backend.ContexteTravail
	at    time.Time
}

func (h *handlers) allContextes(ctx context.Context) ([]backend.ContexteTravail, error) {
	ref := h.Backend.Referential
	contextesCache.Lock()
	c, ok := contextesCache.by[ref]
	contextesCache.Unlock()
	if ok && time.Since(c.at) < 10*time.Minute {
		return c.items, nil
	}
	items, err := ref.ContextesTravail(ctx)
	if err != nil {
		return nil, err
	}
	contextesCache.Lock()
	contextesCache.by[ref] = cachedContextes{items: items, at: time.Now()}
	contextesCache.Unlock()
	return items, nil
}

// picker is the search of a code field: its results when it ran.
func (x *opBlockCtx) picker(name, kind, q string) *pickerView {
	pv := x.Searches[name]
	if pv == nil {
		pv = &pickerView{Target: name, ID: formID(name), Kind: kind, Query: strings.TrimSpace(q)}
		pv.TooShort = pv.Query != "" && utf8.RuneCountInString(pv.Query) < formMinQuery
	}
	pv.QueryLabel = pickerLabels[kind]
	pv.FormURL, pv.FormID = x.FormURL, x.FormID
	for i := range pv.Hits {
		pv.Hits[i].Autofocus = pv.Hits[i].ID == x.Focus
	}
	return pv
}

type pickerRef struct{ name, kind, q string }

// pickers lists the searches the form asks for: every code field whose query is long enough.
func (x *opBlockCtx) pickers(f *requestForm) []pickerRef {
	var out []pickerRef
	add := func(name, kind, q string) {
		if utf8.RuneCountInString(strings.TrimSpace(q)) >= formMinQuery {
			out = append(out, pickerRef{name, kind, q})
		}
	}
	if !f.creates() {
		add("codeRome", pickFiches, f.Top["codeRome.q"])
	}
	if f.Kind != request.KindModifyFiche {
		out = append(out, x.blockPickers(fichePrefix, f.Fiche)...)
	}
	for i, o := range f.Ops {
		out = append(out, x.blockPickers(fmt.Sprintf("ops.%d", i), o)...)
	}
	return out
}

// blockPickers lists the searches a block asks for: its code fields whose query is long
// enough (run each with searchPicker, and put the result in Searches under its name).
func (x *opBlockCtx) blockPickers(prefix string, o opForm) []pickerRef {
	var out []pickerRef
	for _, d := range formOpSpecByOp[o.Op].Fields {
		kind := d.Picker
		if d.Widget == widgetSelect && (!strings.HasPrefix(d.Options, "fiche:") || x.Fiche != nil) {
			kind = ""
		}
		q := o.V[d.Key+".q"]
		if kind != "" && o.shows(d, x.Kind) && utf8.RuneCountInString(strings.TrimSpace(q)) >= formMinQuery {
			out = append(out, pickerRef{prefix + "." + d.Key, kind, q})
		}
	}
	return out
}
