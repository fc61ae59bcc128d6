package ftcompat

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// SelectorError reports a champs selector that names no field of the answer; France
// Travail answers it with 400.
type SelectorError struct {
	Champs string
	Msg    string
}

func (e *SelectorError) Error() string { return fmt.Sprintf("champs %q: %s", e.Champs, e.Msg) }

// selector is a parsed champs value: fields by lower-case name (nil = the whole field) and,
// for lists of compétences, extra fields by compétence type (@macrosavoirfaire(…)).
type selector struct {
	fields map[string]*selector
	byType map[string]*selector
}

// typeKey folds a compétence type or a @type selector to one spelling:
// MACRO-SAVOIR-FAIRE and @macrosavoirfaire are both "macrosavoirfaire".
func typeKey(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "")) }

// Select keeps only the fields named by champs, France Travail's field selector
// ("code,libelle,domaineprofessionnel(code,grandDomaine(code))", names case-insensitive,
// "@macrosavoirfaire(riasecmajeur)" for the fields of one compétence type). A compétence
// keeps its type, which the API always sends. An empty champs keeps everything.
func Select(doc any, champs string) (any, error) {
	if strings.TrimSpace(champs) == "" {
		return doc, nil
	}
	p := parser{src: champs}
	sel, err := p.list()
	if err == nil && p.pos < len(p.src) {
		err = p.fail("unexpected %q", p.src[p.pos])
	}
	if err == nil {
		err = sel.check(reflect.TypeOf(doc), "")
	}
	if err != nil {
		return nil, &SelectorError{Champs: champs, Msg: err.Error()}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return sel.apply(v), nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) fail(format string, args ...any) error {
	return fmt.Errorf("at %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// list parses item ("," item)* up to a closing parenthesis or the end.
func (p *parser) list() (*selector, error) {
	s := &selector{fields: map[string]*selector{}, byType: map[string]*selector{}}
	for {
		typed := p.pos < len(p.src) && p.src[p.pos] == '@'
		if typed {
			p.pos++
		}
		start := p.pos
		for p.pos < len(p.src) && !strings.ContainsRune(",()", rune(p.src[p.pos])) {
			p.pos++
		}
		name := strings.ToLower(strings.TrimSpace(p.src[start:p.pos]))
		if name == "" {
			return nil, p.fail("empty field name")
		}
		var sub *selector
		if p.pos < len(p.src) && p.src[p.pos] == '(' {
			p.pos++
			var err error
			if sub, err = p.list(); err != nil {
				return nil, err
			}
			if p.pos >= len(p.src) || p.src[p.pos] != ')' {
				return nil, p.fail("missing )")
			}
			p.pos++
		}
		if typed {
			if sub == nil {
				return nil, p.fail("@%s needs a field list", name)
			}
			s.byType[typeKey(name)] = sub
		} else {
			s.fields[name] = sub
		}
		if p.pos >= len(p.src) || p.src[p.pos] != ',' {
			return s, nil
		}
		p.pos++
	}
}

// competenceTypes are the types a @type selector may name.
var competenceTypes = map[string]bool{
	typeKey(TypeCompetenceDetaillee): true, typeKey(TypeMacroSavoirFaire): true,
	typeKey(TypeMacroSavoirEtre): true, typeKey(TypeSavoir): true,
}

// jsonFields lists the JSON fields of a struct type by lower-case name, embedded ones included.
func jsonFields(t reflect.Type, into map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			jsonFields(f.Type, into)
			continue
		}
		into[strings.ToLower(name)] = f.Type
	}
}

// check verifies that every selected field exists in type t.
func (s *selector) check(t reflect.Type, path string) error {
	if t == nil {
		return fmt.Errorf("%s has no fields", path)
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("%s has no fields", path)
	}
	fields := map[string]reflect.Type{}
	jsonFields(t, fields)
	for name, sub := range s.fields {
		ft, ok := fields[name]
		if !ok {
			return fmt.Errorf("unknown field %s%s", path, name)
		}
		if sub != nil {
			if err := sub.check(ft, path+name+"."); err != nil {
				return err
			}
		}
	}
	for typ, sub := range s.byType {
		if _, typed := fields["type"]; !typed || !competenceTypes[typ] {
			return fmt.Errorf("unknown type @%s under %s", typ, path)
		}
		if err := sub.check(t, path+"@"+typ+"."); err != nil {
			return err
		}
	}
	return nil
}

// apply projects a decoded JSON value.
func (s *selector) apply(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.apply(e)
		}
		return out
	case map[string]any:
		typ, _ := x["type"].(string)
		extra := s.byType[typeKey(typ)]
		out := map[string]any{}
		for k, val := range x {
			name := strings.ToLower(k)
			sub, ok := s.fields[name]
			if !ok && extra != nil {
				sub, ok = extra.fields[name]
			}
			switch {
			case k == "type" && typ != "":
				out[k] = val
			case !ok:
			case sub == nil:
				out[k] = val
			default:
				out[k] = sub.apply(val)
			}
		}
		return out
	}
	return v
}
