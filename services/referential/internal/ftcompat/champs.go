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

// Selector is a parsed champs value: fields by lower-case name (nil = the whole field) and,
// for compétences, extra fields by compétence type (@macrosavoirfaire(…)).
type Selector struct {
	fields map[string]*Selector
	byType map[string]*Selector
}

// typeKey folds a compétence type or a @type selector to one spelling:
// MACRO-SAVOIR-FAIRE and @macrosavoirfaire are both "macrosavoirfaire".
func typeKey(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "")) }

// macroKey is the selector of both macro types (@macrocompetence(…)), as consumers of the
// Compétences API send it.
const macroKey = "macrocompetence"

// typeKeys are the selector keys that apply to an item of each compétence type.
var typeKeys = map[string][]string{
	TypeCompetenceDetaillee: {typeKey(TypeCompetenceDetaillee)},
	TypeMacroSavoirFaire:    {typeKey(TypeMacroSavoirFaire), macroKey},
	TypeMacroSavoirEtre:     {typeKey(TypeMacroSavoirEtre), macroKey},
	TypeSavoir:              {typeKey(TypeSavoir)},
}

// Parse reads France Travail's field selector ("code,libelle,domaineprofessionnel(code,
// grandDomaine(code))", names case-insensitive, "@macrosavoirfaire(riasecmajeur)" for the
// fields of one compétence type, "@macrocompetence(…)" for both macro types) and checks it
// against the answer's Go type (a struct, or a slice of structs for a list). Nil means
// everything: champs is empty.
func Parse(champs string, answer reflect.Type) (*Selector, error) {
	if strings.TrimSpace(champs) == "" {
		return nil, nil
	}
	p := parser{src: champs}
	sel, err := p.list()
	if err == nil && p.pos < len(p.src) {
		err = p.fail("unexpected %q", p.src[p.pos])
	}
	if err == nil {
		err = sel.check(answer, "")
	}
	if err != nil {
		return nil, &SelectorError{Champs: champs, Msg: err.Error()}
	}
	return sel, nil
}

// Select renders doc as JSON narrowed to the fields named by champs (all of them when
// champs is empty).
func Select(doc any, champs string) ([]byte, error) {
	sel, err := Parse(champs, reflect.TypeOf(doc))
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(doc)
	if err != nil || sel == nil {
		return b, err
	}
	return sel.Project(b), nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) fail(format string, args ...any) error {
	return fmt.Errorf("at %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// list parses item ("," item)* up to a closing parenthesis or the end.
func (p *parser) list() (*Selector, error) {
	s := &Selector{fields: map[string]*Selector{}, byType: map[string]*Selector{}}
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
		var sub *Selector
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
	typeKey(TypeMacroSavoirEtre): true, typeKey(TypeSavoir): true, macroKey: true,
}

// Schema is implemented by values encoded ahead of time (Encoded): it names the Go type
// whose fields the encoding holds, so that selectors are checked against it.
type Schema interface{ SchemaType() reflect.Type }

var schemaInterface = reflect.TypeFor[Schema]()

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
func (s *Selector) check(t reflect.Type, path string) error {
	for t != nil {
		if t.Implements(schemaInterface) {
			t = reflect.Zero(t).Interface().(Schema).SchemaType()
			continue
		}
		if t.Kind() != reflect.Pointer && t.Kind() != reflect.Slice {
			break
		}
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
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

// field finds the selection of a field for an item of compétence type typ ("" if untyped):
// ok is false when the field is not selected.
func (s *Selector) field(name, typ string) (sub *Selector, ok bool) {
	if sub, ok = s.fields[name]; ok || typ == "" {
		return sub, ok
	}
	for _, k := range typeKeys[typ] {
		if extra := s.byType[k]; extra != nil {
			if sub, ok = extra.field(name, typ); ok {
				return sub, ok
			}
		}
	}
	return nil, false
}
