package ui

// The views of the request form's editor (request_new.html, request_amend.html): the page,
// its operation blocks and their fields.

import (
	"fmt"
	"strings"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

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
	for _, k := range request.Kinds {
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
