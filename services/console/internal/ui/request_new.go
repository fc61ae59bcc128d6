package ui

// The partner's request form: GET/POST /demandes/nouvelle, its preview (POST
// /demandes/nouvelle/apercu) and the pickers' live results (GET /referentiel/recherche).
// The form itself is in request_form.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
	refclient "github.com/plateforme-rome/rome/services/referential/client"
	"github.com/plateforme-rome/rome/workflows/request"
)

const (
	newRequestURL = "/demandes/nouvelle"
	newRequestID  = "demande" // the form's id, the htmx target of its re-renders
	pickerHits    = 10
)

// formEditor is a page that edits operations with the request form: the new request, or
// the amendment of a request's operations (request_amend.go). Its handlers share the
// form's buttons (applyButton), its rendering (showEditor), its live preview
// (previewEditor) and its sending (sendEditor).
type formEditor struct {
	Page, Title, Section string // the page's template, title and navigation entry
	URL                  string // where every button of the form posts
	PreviewURL           string // the live preview (htmx)
	FormID               string // the form's id: the htmx target of its re-renders
	Purpose              string // what the submit button does ("de soumettre la demande"), for the error summary
	PreviewTitle         string
	// Request is the request whose operations are amended (nil for a new request): its kind,
	// code ROME, title and justification are not the form's to change.
	Request *request.Request
	// unsaved is the alert when the platform did not answer the submission.
	unsaved string
	// conflict words a 409 answer to the submission (nil: a form that expects none).
	conflict func(ctx context.Context, e *backend.Error) string
}

var newRequestEditor = &formEditor{Page: "request_new", Title: "Nouvelle demande", Section: "nouvelle",
	URL: newRequestURL, PreviewURL: newRequestURL + "/apercu", FormID: newRequestID,
	Purpose: "de soumettre la demande", PreviewTitle: "Aperçu avant soumission",
	unsaved: "La demande n'a pas été enregistrée : la plateforme ne répond pas pour le moment. Réessayez dans un instant ; " +
		"tout ce que vous avez saisi est conservé, et un nouvel envoi ne crée pas de doublon."}

// newRequest shows an empty form; ?type= and ?codeRome= prefill it (a fiche's page links
// here to propose a change to it).
func (h *handlers) newRequest(c *gin.Context) {
	f := newRequestForm()
	if k := request.Kind(c.Query("type")); slices.Contains(kindOrder, k) {
		f.Kind = k
	}
	if code := normCodeRome(c.Query("codeRome")); formCodeRome.MatchString(code) {
		f.CodeRome = code
		if f.Kind == "" {
			f.Kind = request.KindModifyFiche
		}
	}
	h.showRequestForm(c, f, formState{status: http.StatusOK})
}

// newRequestPost handles every button of the form: only "Soumettre la demande" submits;
// the others change the form and show it again.
func (h *handlers) newRequestPost(c *gin.Context) {
	f, action := parseRequestForm(reqPostedForm(c))
	st := f.applyButton(action)
	if action == "submit" {
		h.submitRequest(c, f)
		return
	}
	h.showRequestForm(c, f, st)
}

// applyButton applies the button pressed (action) other than the submit button, after the
// search results picked, and says how to show the form again.
func (f *requestForm) applyButton(action string) formState {
	st := formState{status: http.StatusOK}
	st.focus, st.live = f.applyPicks()
	switch {
	case action == "submit":
	case action == "preview":
		f.Previewed, st.focus = true, "apercu-titre"
	case strings.HasPrefix(action, "search:"):
		st.searchFocus = strings.TrimPrefix(action, "search:")
	case action == "fiche":
		st.ficheAsked = true
	default:
		if focus, live, refused := f.applyAction(action); focus != "" || refused != "" {
			st.focus, st.live, st.alert = focus, live, refused
		}
	}
	return st
}

// newRequestPreview refreshes the preview as the partner edits (htmx); without htmx it
// shows the whole form with its preview.
func (h *handlers) newRequestPreview(c *gin.Context) {
	f, _ := parseRequestForm(reqPostedForm(c))
	h.previewEditor(c, newRequestEditor, f)
}

// previewEditor answers an editor's live preview (htmx: the preview alone); without htmx
// it shows the whole form with its preview.
func (h *handlers) previewEditor(c *gin.Context, e *formEditor, f *requestForm) {
	f.applyPicks()
	f.Previewed = true
	if reqHTMX(c) {
		h.showEditor(c, e, f, formState{status: http.StatusOK, previewOnly: true})
		return
	}
	h.showEditor(c, e, f, formState{status: http.StatusOK, focus: "apercu-titre"})
}

// submitRequest checks the form, then files the request with the intake.
func (h *handlers) submitRequest(c *gin.Context, f *requestForm) {
	h.sendEditor(c, newRequestEditor, f, func(ctx context.Context) (string, error) {
		created, err := h.Backend.Intake.Submit(ctx, f.submission(), f.Key)
		return "/demandes/" + url.PathEscape(created.ID) + "?message=soumise", err
	})
}

// sendEditor checks an editor's form, then sends it (send answers where to go next): the
// service's refusal comes back next to the fields (422) or explained (409), with
// everything typed; the platform out of reach keeps it all too.
func (h *handlers) sendEditor(c *gin.Context, e *formEditor, f *requestForm, send func(ctx context.Context) (string, error)) {
	ctx := c.Request.Context()
	st := formState{status: http.StatusUnprocessableEntity, focus: "erreurs", errors: f.validate()}
	var missing bool
	st.fiche, st.ficheNote, missing = h.loadFormFiche(ctx, f)
	st.ficheLoaded = true
	if missing && f.Kind == request.KindModifyFiche && e.Request == nil {
		st.errors.add("codeRome", st.ficheNote)
	}
	if st.errors.Any() {
		h.showEditor(c, e, f, st)
		return
	}
	target, err := send(ctx)
	p, isProblem := backend.AsError(err)
	switch {
	case err == nil:
	case isProblem && p.Status == http.StatusUnprocessableEntity:
		st.errors = fromProblem(p, f.formField)
		h.showEditor(c, e, f, st)
		return
	case isProblem && p.Status == http.StatusConflict && e.conflict != nil:
		st = formState{status: http.StatusConflict, fiche: st.fiche, ficheNote: st.ficheNote, ficheLoaded: true, focus: "alerte",
			alert: e.conflict(ctx, p)}
		h.showEditor(c, e, f, st)
		return
	case isProblem && (p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden || p.Status == http.StatusNotFound):
		h.backendFailed(c, err)
		return
	default:
		slog.WarnContext(ctx, "form not sent", "page", e.Page, "error", err)
		st = formState{status: http.StatusServiceUnavailable, fiche: st.fiche, ficheNote: st.ficheNote, ficheLoaded: true, focus: "alerte",
			alert: e.unsaved}
		if errors.Is(err, context.DeadlineExceeded) {
			st.status = http.StatusGatewayTimeout
		}
		h.showEditor(c, e, f, st)
		return
	}
	if reqHTMX(c) {
		c.Header("HX-Redirect", target)
		c.Status(http.StatusOK)
		return
	}
	c.Redirect(http.StatusSeeOther, target)
}

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

func reqHTMX(c *gin.Context) bool { return c.GetHeader("HX-Request") == "true" }

func reqPostedForm(c *gin.Context) url.Values {
	_ = c.Request.ParseForm()
	return c.Request.PostForm
}

// formState is how a form is shown again.
type formState struct {
	status             int
	errors             fieldErrors
	focus, live, alert string
	searchFocus        string // the picker whose search button was pressed
	previewOnly        bool   // the htmx refresh of the preview
	ficheAsked         bool   // "Charger la fiche" (or a new Code ROME, with htmx)
	fiche              *backend.Fiche
	ficheNote          string
	ficheLoaded        bool
}

// showRequestForm shows the new request's form.
func (h *handlers) showRequestForm(c *gin.Context, f *requestForm, st formState) {
	h.showEditor(c, newRequestEditor, f, st)
}

// showEditor loads what an editor's form shows (the fiche to modify, the searches, the
// preview) and renders it.
func (h *handlers) showEditor(c *gin.Context, e *formEditor, f *requestForm, st formState) {
	ctx := c.Request.Context()
	if st.errors == nil {
		st.errors = fieldErrors{}
	}
	if e.Request != nil {
		// An amendment does not show the request's own fields: their errors go to the summary.
		for _, name := range []string{"kind", "codeRome", "title", "justification"} {
			if msg, ok := st.errors[name]; ok {
				delete(st.errors, name)
				st.errors.add("", f.fieldLabel(name)+" : "+msg)
			}
		}
	}
	if !st.ficheLoaded && !st.previewOnly {
		st.fiche, st.ficheNote, _ = h.loadFormFiche(ctx, f)
	}
	x := &opBlockCtx{Kind: f.Kind, KindFixed: e.Request != nil, Errors: st.errors, Fiche: st.fiche, Focus: st.focus,
		FormURL: e.URL, FormID: e.FormID, Searches: map[string]*pickerView{}}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		preview *validationView
	)
	if f.Previewed {
		wg.Go(func() { preview = h.previewForm(ctx, f) })
	}
	if !st.previewOnly {
		for _, p := range x.pickers(f) {
			wg.Go(func() {
				pv := h.searchPicker(ctx, p.name, p.kind, p.q)
				mu.Lock()
				x.Searches[p.name] = pv
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if name := st.searchFocus; name != "" {
		x.Focus = formID(name) + "-q"
		if pv := x.Searches[name]; pv != nil {
			if len(pv.Hits) > 0 {
				x.Focus = pv.Hits[0].ID
			}
			st.live = resultsAnnouncement(pv)
		}
	}
	if st.focus == "apercu-titre" && preview != nil {
		st.live = orRaw(preview.Status, orRaw(preview.Message, preview.Err))
	}
	if st.ficheAsked && st.live == "" {
		st.live = st.ficheNote
		if st.fiche != nil {
			st.live = fmt.Sprintf("Fiche %s chargée : %s.", st.fiche.CodeRome, st.fiche.Libelle)
		}
	}
	page := x.page(f, preview, st)
	page.Editor = e
	if !f.creates() && e.Request != nil {
		page.Create = opBlock{} // an amendment shows only what its request has
	}
	// htmx swaps 409 and 422 answers too (the layout's htmx-config): the form shows its errors.
	h.render(c, st.status, e.Page, view{Title: e.Title, Section: e.Section, Data: page})
}

// loadFormFiche reads the fiche being modified, for its elements' lists; the note says why
// there is none, missing that the referential has no such fiche.
func (h *handlers) loadFormFiche(ctx context.Context, f *requestForm) (fiche *backend.Fiche, note string, missing bool) {
	if f.creates() || !formCodeRome.MatchString(f.CodeRome) {
		return nil, "", false
	}
	fiche, err := h.Backend.Referential.Fiche(ctx, f.CodeRome, 0)
	if e, ok := backend.AsError(err); ok && e.Status == http.StatusNotFound {
		return nil, "Aucune fiche ne porte le code ROME " + f.CodeRome + " dans le référentiel : vérifiez-le, ou recherchez la fiche par son intitulé.", true
	}
	if err != nil {
		slog.WarnContext(ctx, "fiche not read for the request form", "code_rome", f.CodeRome, "error", err)
		return nil, "Le référentiel ne répond pas : les listes des éléments de la fiche ne sont pas disponibles. Saisissez les codes, ou réessayez dans un instant.", false
	}
	return fiche, "", false
}

// previewForm dry-runs the operations on the referential's current version.
func (h *handlers) previewForm(ctx context.Context, f *requestForm) *validationView {
	switch {
	case f.Kind == "":
		return &validationView{Message: "Choisissez le type de demande pour voir l'aperçu."}
	case f.Kind == request.KindModifyFiche && !formCodeRome.MatchString(f.CodeRome):
		return &validationView{Message: "Saisissez le code ROME de la fiche à modifier pour voir l'aperçu."}
	case !f.creates() && len(f.Ops) == 0:
		return &validationView{Message: "Ajoutez au moins une opération pour voir l'aperçu."}
	}
	cs := refclient.ChangeSet{Operations: f.operations()}
	if !f.creates() {
		cs.CodeRome = f.CodeRome
	}
	v, err := h.Backend.Referential.Validate(ctx, cs)
	if e, ok := backend.AsError(err); ok && e.Status == http.StatusUnprocessableEntity {
		return &validationView{Message: "Complétez le formulaire pour voir l'aperçu (le référentiel ne peut pas encore vérifier ces opérations)."}
	}
	if err != nil {
		slog.WarnContext(ctx, "request form not previewed", "error", err)
		return &validationView{Err: "Le référentiel ne répond pas : l'aperçu n'est pas disponible pour le moment. " +
			"Vous pouvez tout de même soumettre la demande : elle sera vérifiée à sa réception."}
	}
	titles := make([]string, len(v.Results))
	for i := range titles {
		switch {
		case f.creates() && i == 0:
			titles[i] = "Création de la fiche"
		case f.creates() && i-1 < len(f.Ops):
			titles[i] = fmt.Sprintf("Opération %d : %s", i, opLabels[f.Ops[i-1].Op])
		case !f.creates() && i < len(f.Ops):
			titles[i] = fmt.Sprintf("Opération %d : %s", i+1, opLabels[f.Ops[i].Op])
		default:
			titles[i] = "Opération " + v.Results[i].OperationID
		}
	}
	return newValidationView(v, titles)
}

// --- the pickers ---------------------------------------------------------------------

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

// --- the views -------------------------------------------------------------------------

// newRequestPage is what request_new.html shows (and request_amend.html: the same editor).
type newRequestPage struct {
	Editor               *formEditor
	Form                 *requestForm
	Kinds                []kindChoice
	KindError            string
	CodeRome             fieldView
	Fiche                *backend.Fiche // the fiche being modified, once loaded
	FicheCounts          string
	FicheNote            string
	Create               opBlock // create_fiche, for the kinds that create a fiche
	Title, Justification fieldView
	Ops                  []opBlock
	OpsError             string
	AddGroups            []addGroup
	Summary              []summaryItem
	Alert                string
	Preview              *validationView
	Focus                string
	Live                 string
	// PickerPage is a picker's results alone (GET /referentiel/recherche).
	PickerPage *pickerView
}

type kindChoice struct {
	Value, Label, ID string
	Checked          bool
}

type addGroup struct {
	Key, Label string
	Buttons    []addButton
}

type addButton struct{ Op, Label, ID string }

// opBlockCtx is what operation blocks are built with. A page other than the request form
// (a moderator's amendment) builds its blocks with its own FormURL/FormID, or none.
type opBlockCtx struct {
	Kind     request.Kind
	Errors   fieldErrors
	Fiche    *backend.Fiche           // the fiche the operations change: its elements fill the selects
	Searches map[string]*pickerView   // the pickers' results, by field name
	Results  map[string]*opResultView // the preview's verdicts, by block name
	Focus    string                   // the id of the element that gets the focus
	FormURL  string                   // where a picked result re-renders the form with htmx
	FormID   string

	// KindFixed: the request's kind does not change (an amendment); the blocks show only
	// the fields of that kind, not those the form hides for the other kinds.
	KindFixed bool
}

// opBlock is an operation block: the partial "operation-fields" renders it.
type opBlock struct {
	Name, ID, Op, Title string
	OpID                string // an existing operation's id, sent back in <Name>.id
	Index               int
	Source              *sourceView
	Fields              []fieldView
	Error               string
	Result              *opResultView
	Removable           bool
}

// RemoveAction is the value of its "Retirer cette opération" button.
func (o opBlock) RemoveAction() string { return fmt.Sprintf("remove:%d", o.Index) }

// sourceView is the choice between an existing element and a new one.
type sourceView struct {
	Name, ID, Legend string
	Options          []kindChoice
	Autofocus        string // the id of the option that gets the focus
}

// fieldView is one field of a block: the partial "req-field" renders it.
type fieldView struct {
	Name, ID, Label, Hint, Value, Error string
	Widget                              string
	Required, Short, Numeric, Autofocus bool
	Rows                                int
	Group                               string
	Options                             []formOption
	OptGroups                           []optGroup
	Picker                              *pickerView
	Choice, ChoiceRaw                   string // the label of the value picked, and what keeps it
	Reload                              bool   // changing it reloads the form (the Code ROME)
	FormURL, FormID                     string
}

type optGroup struct {
	Label   string
	Options []formOption
}

// DescribedBy lists the ids of the field's hint, choice and error.
func (f fieldView) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Choice != "" {
		ids = append(ids, f.ID+"-choice")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// Selected tells whether a select's option is the field's value.
func (f fieldView) Selected(v string) bool {
	return f.Value == v || (f.Value == "" && v == tagUnchanged)
}

// opResultView is the preview's verdict on one block.
type opResultView struct {
	ID          string
	Present     bool
	Applies     bool
	Text        string
	Field       string // the label of the field it names
	FieldTarget string
}

func (x *opBlockCtx) page(f *requestForm, preview *validationView, st formState) *newRequestPage {
	p := &newRequestPage{Form: f, Fiche: st.fiche, Preview: preview, Focus: x.Focus, Live: st.live, Alert: st.alert,
		KindError: x.Errors["kind"], OpsError: x.Errors["operations"]}
	for _, k := range kindOrder {
		p.Kinds = append(p.Kinds, kindChoice{Value: string(k), Label: kindLabels[k], ID: "kind-" + string(k), Checked: f.Kind == k})
	}
	if st.fiche != nil {
		p.FicheCounts = ficheCounts(st.fiche)
	}
	if x.Errors["codeRome"] == "" {
		p.FicheNote = st.ficheNote // an error on the Code ROME says it already
	}
	x.Results = map[string]*opResultView{}
	if preview != nil && preview.raw != nil {
		for i, r := range preview.raw.Results {
			prefix, o := "", opForm{}
			switch {
			case f.creates() && i == 0:
				prefix, o = fichePrefix, f.Fiche
			case f.creates() && i-1 < len(f.Ops):
				prefix, o = fmt.Sprintf("ops.%d", i-1), f.Ops[i-1]
			case !f.creates() && i < len(f.Ops):
				prefix, o = fmt.Sprintf("ops.%d", i), f.Ops[i]
			default:
				continue
			}
			rv := &opResultView{ID: formID(prefix) + "-apercu", Present: true, Applies: r.Applies, Text: refusalText(r)}
			if field := f.resultField(prefix, o, r.Field); field != "" {
				rv.Field, rv.FieldTarget = f.fieldLabel(field), f.fieldTarget(field)
			}
			x.Results[prefix] = rv
		}
	}
	cr := fieldDef{Key: "codeRome", Label: "Code ROME", Widget: widgetCode, Picker: pickFiches, Short: true,
		Hint: "Une lettre et quatre chiffres, par exemple M1805 ; ou recherchez la fiche par son intitulé ci-dessous."}
	top := opForm{V: map[string]string{"codeRome": f.CodeRome, "codeRome.q": f.Top["codeRome.q"], "codeRome.label": f.Top["codeRome.label"]}}
	p.CodeRome = x.field("", cr, top)
	p.CodeRome.Reload = true
	p.Title = x.field("", fieldDef{Key: "title", Label: "Titre", Widget: widgetText, Required: true,
		Hint: "Une phrase qui résume la demande, par exemple « Ajouter l'appellation Développeur Go à la fiche M1805 »."},
		opForm{V: map[string]string{"title": f.Title}})
	p.Justification = x.field("", fieldDef{Key: "justification", Label: "Justification", Widget: widgetTextarea, Rows: 6, Required: true,
		Hint: "Pourquoi cette évolution ? Constats du marché du travail, sources, volumes d'offres d'emploi, textes réglementaires…"},
		opForm{V: map[string]string{"justification": f.Justification}})
	p.Create = x.block(fichePrefix, f.Fiche, "Création de la fiche (première opération de la demande)", -1)
	for i, o := range f.Ops {
		v := x.block(fmt.Sprintf("ops.%d", i), o, fmt.Sprintf("Opération %d : %s", i+1, opLabels[o.Op]), i)
		p.Ops = append(p.Ops, v)
	}
	for _, g := range formOpGroups {
		ag := addGroup{Key: g.Key, Label: g.Label}
		for _, s := range formOpSpecs {
			if s.Group == g.Key {
				ag.Buttons = append(ag.Buttons, addButton{Op: s.Op, Label: opLabels[s.Op], ID: "add-" + s.Op})
			}
		}
		p.AddGroups = append(p.AddGroups, ag)
	}
	p.Summary = f.errorSummary(x.Errors)
	return p
}

// ficheCounts sums up a fiche's elements.
func ficheCounts(f *backend.Fiche) string {
	comp := 0
	for _, m := range append(append([]backend.MacroCompetence{}, f.Competences.SavoirFaire...), f.Competences.SavoirEtreProfessionnels...) {
		comp += len(m.Competences)
	}
	sav, ctx := 0, 0
	for _, s := range f.Savoirs {
		sav += len(s.Savoirs)
	}
	for _, t := range f.ContextesTravail {
		ctx += len(t.Contextes)
	}
	return fmt.Sprintf("%s, %s, %s, %s, %s", reqCount(len(f.Appellations), "appellation"), reqCount(comp, "compétence"),
		reqCount(sav, "savoir"), reqCount(ctx, "contexte de travail"), reqCount(len(f.Mobilites), "mobilité"))
}

func reqCount(n int, noun string) string {
	if n > 1 {
		if i := strings.Index(noun, " "); i > 0 {
			return fmt.Sprintf("%d %ss%s", n, noun[:i], noun[i:])
		}
		return fmt.Sprintf("%d %ss", n, noun)
	}
	return fmt.Sprintf("%d %s", n, noun)
}

var sourceLabels = map[string][3]string{
	"compétence": {"La compétence", "Une compétence existante du ROME", "Une nouvelle compétence"},
	"savoir":     {"Le savoir", "Un savoir existant du ROME", "Un nouveau savoir"},
}

// opBlock builds the block of an operation whose fields are named prefix.<field>; index is
// its position for "Retirer cette opération" (-1: not removable).
func (x *opBlockCtx) block(prefix string, o opForm, title string, index int) opBlock {
	spec := formOpSpecByOp[o.Op]
	v := opBlock{Name: prefix, ID: formID(prefix), Op: o.Op, OpID: o.get("id"), Title: title, Index: index, Error: x.Errors[prefix], Removable: index >= 0}
	if r := x.Results[prefix]; r != nil {
		v.Result = r
	} else {
		v.Result = &opResultView{ID: v.ID + "-apercu"}
	}
	if spec.Source != "" {
		l := sourceLabels[spec.Source]
		sv := &sourceView{Name: prefix + ".source", ID: formID(prefix + ".source"), Legend: l[0]}
		for i, val := range []string{sourceExisting, sourceNew} {
			id := sv.ID + "-" + val
			sv.Options = append(sv.Options, kindChoice{Value: val, Label: l[i+1], ID: id, Checked: o.source() == val})
			if x.Focus == id {
				sv.Autofocus = id
			}
		}
		v.Source = sv
	}
	for _, d := range spec.Fields {
		if x.KindFixed && (d.Group == groupKnownAppel || d.Group == groupNewAppel) && !o.shows(d, x.Kind) {
			continue
		}
		v.Fields = append(v.Fields, x.field(prefix, d, o))
	}
	return v
}

// field builds a field of a block (prefix "" for the request's own fields).
func (x *opBlockCtx) field(prefix string, d fieldDef, o opForm) fieldView {
	name := d.Key
	if prefix != "" {
		name = prefix + "." + d.Key
	}
	fv := fieldView{Name: name, ID: formID(name), Label: d.Label, Hint: d.Hint, Value: o.V[d.Key], Error: x.Errors[name],
		Widget: d.Widget, Required: d.Required, Short: d.Short, Numeric: d.Numeric, Rows: d.Rows, Group: d.Group,
		FormURL: x.FormURL, FormID: x.FormID}
	fv.Autofocus = x.Focus == fv.ID
	if d.Widget == widgetSelect {
		if strings.HasPrefix(d.Options, "fiche:") {
			if x.Fiche != nil {
				fv.Options = []formOption{{"", "Choisissez dans la fiche"}}
				fv.OptGroups = ficheOptions(x.Fiche, d.Options, strings.TrimSpace(fv.Value))
			} else {
				fv.Widget, fv.Label, fv.Short = widgetCode, d.Fallback, true
				fv.Hint = strings.TrimSpace(d.Hint + " Saisissez le code, ou recherchez l'élément ci-dessous.")
			}
		} else {
			fv.Options = formOptionSets[d.Options]
		}
	}
	if fv.Widget == widgetCode {
		fv.Picker = x.picker(name, d.Picker, o.V[d.Key+".q"])
		raw := o.V[d.Key+".label"]
		code, _, label := splitPick(raw)
		if value := strings.TrimSpace(fv.Value); code != "" && (code == value || code == normCodeRome(value)) {
			fv.Choice, fv.ChoiceRaw = label, raw
		}
	}
	return fv
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

// ficheOptions are a fiche's elements as a select's choices; a value that is not among
// them (typed before the fiche was loaded) stays, marked.
func ficheOptions(f *backend.Fiche, set, value string) []optGroup {
	var groups []optGroup
	items := func(label string, its []backend.Item) {
		g := optGroup{Label: label}
		for _, it := range its {
			g.Options = append(g.Options, formOption{it.CodeOgr, it.Libelle})
		}
		if len(g.Options) > 0 {
			groups = append(groups, g)
		}
	}
	switch set {
	case ficheOptAppellations, ficheOptSynonymes:
		g := optGroup{Label: "Appellations de la fiche " + f.CodeRome}
		for _, a := range f.Appellations {
			switch {
			case a.Classification == "PRINCIPALE" && set == ficheOptSynonymes:
			case a.Classification == "PRINCIPALE":
				g.Options = append(g.Options, formOption{a.CodeOgr, a.Libelle + " (appellation principale)"})
			default:
				g.Options = append(g.Options, formOption{a.CodeOgr, a.Libelle})
			}
		}
		groups = append(groups, g)
	case ficheOptCompetences, ficheOptCoeur:
		macros := func(ms []backend.MacroCompetence, suffix string) {
			for _, m := range ms {
				g := optGroup{Label: m.Libelle + suffix}
				if set == ficheOptCoeur && m.Linked {
					g.Options = append(g.Options, formOption{m.CodeOgr, m.Libelle + " (la macro-compétence)"})
				}
				for _, it := range m.Competences {
					g.Options = append(g.Options, formOption{it.CodeOgr, it.Libelle})
				}
				if len(g.Options) > 0 {
					groups = append(groups, g)
				}
			}
		}
		macros(f.Competences.SavoirFaire, "")
		macros(f.Competences.SavoirEtreProfessionnels, " (savoir-être)")
	case ficheOptSavoirs:
		for _, s := range f.Savoirs {
			items(s.Categorie, savoirItems(s.Savoirs))
		}
	case ficheOptContextes:
		for _, t := range f.ContextesTravail {
			items(t.Libelle, t.Contextes)
		}
	case ficheOptMobilites:
		g := optGroup{Label: "Mobilités de la fiche " + f.CodeRome}
		for _, m := range f.Mobilites {
			g.Options = append(g.Options, formOption{m.CodeRome, fmt.Sprintf("%s – %s (rang %d)", m.CodeRome, m.Libelle, m.Rang)})
		}
		groups = append(groups, g)
	}
	if value != "" && !slices.ContainsFunc(groups, func(g optGroup) bool {
		return slices.ContainsFunc(g.Options, func(o formOption) bool { return o.Value == value })
	}) {
		groups = append(groups, optGroup{Label: "Valeur saisie", Options: []formOption{{value, value + " (absent de la fiche)"}}})
	}
	return groups
}

// --- the preview ----------------------------------------------------------------------

// validationView words the referential's dry run of operations (request form, request page).
type validationView struct {
	Message string // why there is no preview yet
	Err     string // the referential failed
	Version int
	Applies bool
	Status  string // the verdict in one sentence
	Results []resultLine
	Changes []changeLine
	After   *ficheAfter
	raw     *refclient.Validation
}

type resultLine struct {
	Title   string
	Applies bool
	Text    string
}

// changeLine is one line of the semantic diff, in ROME terms.
type changeLine struct {
	Action, Entity, Label, Code, Detail, CodeRome string
}

// ficheAfter is what the preview shows of the fiche after the operations.
type ficheAfter struct {
	CodeRome, Libelle, Domaine string
	Appellations               []string
	MoreAppellations           int
	Elements                   string // "12 compétences, 3 savoirs…"
	Mobilites                  []string
	MoreMobilites              int
	Tags                       []string
	Definition                 string
}

// newValidationView words a dry run; titles name each operation's result.
func newValidationView(v *refclient.Validation, titles []string) *validationView {
	vv := &validationView{Version: v.Version, Applies: v.Applies, raw: v}
	failing := 0
	for i, r := range v.Results {
		title := "Opération " + r.OperationID
		if i < len(titles) {
			title = titles[i]
		}
		vv.Results = append(vv.Results, resultLine{Title: title, Applies: r.Applies, Text: refusalText(r)})
		if !r.Applies {
			failing++
		}
	}
	switch {
	case failing == 0:
		vv.Status = fmt.Sprintf("Aperçu à jour : les %s s'appliquent à la version %d du référentiel.", reqCount(len(v.Results), "opération"), v.Version)
		if len(v.Results) == 1 {
			vv.Status = fmt.Sprintf("Aperçu à jour : l'opération s'applique à la version %d du référentiel.", v.Version)
		}
	case failing == 1:
		vv.Status = fmt.Sprintf("Aperçu à jour : 1 opération sur %d ne s'applique pas à la version %d du référentiel.", len(v.Results), v.Version)
	default:
		vv.Status = fmt.Sprintf("Aperçu à jour : %d opérations sur %d ne s'appliquent pas à la version %d du référentiel.", failing, len(v.Results), v.Version)
	}
	for _, ch := range v.Diff {
		vv.Changes = append(vv.Changes, wordChange(ch))
	}
	if len(v.Preview) > 0 && string(v.Preview) != "null" {
		var f backend.Fiche
		if err := json.Unmarshal(v.Preview, &f); err == nil && f.CodeRome != "" {
			vv.After = newFicheAfter(&f)
		}
	}
	return vv
}

func newFicheAfter(f *backend.Fiche) *ficheAfter {
	a := &ficheAfter{CodeRome: f.CodeRome, Libelle: f.Libelle, Domaine: f.DomaineProfessionnel.Libelle, Definition: truncate(300, f.Definition)}
	for i, ap := range f.Appellations {
		if i == 30 {
			a.MoreAppellations = len(f.Appellations) - i
			break
		}
		label := ap.Libelle
		if ap.Classification == "PRINCIPALE" {
			label += " (principale)"
		}
		a.Appellations = append(a.Appellations, label)
	}
	comp, sav, ctx := 0, 0, 0
	for _, m := range append(append([]backend.MacroCompetence{}, f.Competences.SavoirFaire...), f.Competences.SavoirEtreProfessionnels...) {
		comp += len(m.Competences)
	}
	for _, s := range f.Savoirs {
		sav += len(s.Savoirs)
	}
	for _, t := range f.ContextesTravail {
		ctx += len(t.Contextes)
	}
	a.Elements = fmt.Sprintf("%s, %s, %s", reqCount(comp, "compétence"), reqCount(sav, "savoir"), reqCount(ctx, "contexte de travail"))
	for i, m := range f.Mobilites {
		if i == 15 {
			a.MoreMobilites = len(f.Mobilites) - i
			break
		}
		a.Mobilites = append(a.Mobilites, fmt.Sprintf("%d. %s – %s", m.Rang, m.CodeRome, m.Libelle))
	}
	t := f.Tags
	a.Tags = append(a.Tags, "Transition écologique : "+orRaw(t.TransitionEcologique, "non renseignée"))
	for _, fl := range []struct {
		label string
		v     *bool
	}{{"Transition numérique", t.TransitionNumerique}, {"Transition démographique", t.TransitionDemographique},
		{"Emploi réglementé", t.EmploiReglemente}, {"Emploi cadre", t.EmploiCadre}} {
		a.Tags = append(a.Tags, fl.label+" : "+reqYesNo(fl.v))
	}
	return a
}

func reqYesNo(b *bool) string {
	switch {
	case b == nil:
		return "non renseigné"
	case *b:
		return "oui"
	}
	return "non"
}

// refusalMessages word the referential's reasons for an operation that does not apply.
var refusalMessages = map[string]string{
	"field_required":                "un champ obligatoire manque",
	"invalid_value":                 "une valeur n'est pas valide",
	"invalid_field":                 "le texte à réécrire est la définition ou l'accès à l'emploi",
	"unknown_operation":             "cette opération n'existe pas",
	"fiche_required":                "aucune fiche n'est désignée : saisissez le code ROME",
	"unknown_fiche":                 "cette fiche n'existe pas dans le référentiel",
	"fiche_exists":                  "la création de fiche doit être la première opération",
	"same_fiche":                    "la fiche cible est la fiche elle-même",
	"unknown_appellation":           "cette appellation n'existe pas dans le référentiel",
	"appellation_not_on_fiche":      "cette appellation n'est pas sur la fiche",
	"principal_appellation":         "l'appellation principale porte le nom de la fiche : elle ne se supprime ni ne se déplace, elle se renomme",
	"invalid_successor":             "une appellation ne peut pas se remplacer elle-même",
	"duplicate_appellation":         "une appellation porte déjà ce libellé",
	"libelle_mismatch":              "une fiche prend le libellé de son appellation principale",
	"unknown_domaine_professionnel": "ce domaine professionnel n'existe pas",
	"unknown_grand_domaine":         "ce domaine professionnel n'existe pas",
	"domaine_full":                  "ce domaine professionnel n'a plus de code ROME libre",
	"ambiguous_item":                "choisissez un élément existant ou un nouveau, pas les deux",
	"unknown_macro_competence":      "ce code n'est pas celui d'une macro-compétence",
	"invalid_macro_competence":      "une nouvelle compétence se range sous une macro-compétence de savoir-faire",
	"unknown_competence":            "cette compétence n'existe pas dans le référentiel",
	"unknown_savoir":                "ce savoir n'existe pas dans le référentiel",
	"unknown_contexte":              "ce contexte de travail n'existe pas dans le référentiel",
	"already_on_fiche":              "cet élément est déjà sur la fiche",
	"not_on_fiche":                  "cet élément n'est pas sur la fiche",
}

// refusalText words why an operation does not apply ("" when it does).
func refusalText(r refclient.Result) string {
	if r.Applies {
		return ""
	}
	msg, ok := refusalMessages[r.Code]
	switch {
	case ok && r.Reason != "":
		msg += " (" + r.Reason + ")"
	case !ok:
		msg = orRaw(r.Reason, r.Code)
	}
	return reqCapitalize(msg) + "."
}

func reqCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// changeFields word the fields a change names.
var changeFields = map[string]string{
	"libelle": "libellé", "libelleCourt": "libellé court", "definition": "définition", "accesEmploi": "accès à l'emploi",
	"transitionEcologique": "transition écologique", "transitionNumerique": "transition numérique",
	"transitionDemographique": "transition démographique", "emploiReglemente": "emploi réglementé", "emploiCadre": "emploi cadre",
	"codeRome": "fiche", "rang": "rang", "replacedBy": "remplacée par", "reason": "motif", "coeurMetier": "cœur de métier",
}

func wordChange(ch refclient.Change) changeLine {
	l := changeLine{Action: reqCapitalize(orRaw(changeActions[ch.Action], ch.Action)), Entity: orRaw(changeEntities[ch.Entity], ch.Entity),
		Label: ch.Libelle, Code: ch.CodeOgr, CodeRome: ch.CodeRome}
	var parts []string
	if ch.Field != "" {
		parts = append(parts, orRaw(changeFields[ch.Field], ch.Field))
	}
	if ch.Before != nil {
		parts = append(parts, "avant : "+describeValue(ch.Before))
	}
	if ch.After != nil {
		parts = append(parts, "après : "+describeValue(ch.After))
	}
	l.Detail = strings.Join(parts, " ; ")
	return l
}

// describeValue words a value of the diff (text, flag, code, or an object of them).
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "non renseigné"
	case string:
		if x == "" {
			return "vide"
		}
		return truncate(200, x)
	case bool:
		if x {
			return "oui"
		}
		return "non"
	case float64:
		return fmt.Sprint(x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, orRaw(changeFields[k], k)+" "+describeValue(x[k]))
		}
		return strings.Join(parts, ", ")
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return describeValue(m)
	}
	return fmt.Sprint(v)
}
