package policy

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/userevents/userevents"
)

// Version is the only policy language version that identity policies of
// Huawei Cloud IAM 5.0 accept.
const Version = "5.0"

// MaxDocumentChars is the largest policy, in characters of its compact
// JSON form, that Parse accepts. The Huawei Cloud IAM "Notes and
// Constraints" page lists 6,144 characters per custom policy and no limit
// on the number of statements, actions, resources or conditions, so Parse
// has no other size limit.
//
// NOTE: whether Huawei counts the whitespace of a formatted policy is not
// documented; Parse counts the characters left after removing whitespace
// between JSON tokens.
const MaxDocumentChars = 6144

// maxDocumentBytes bounds the raw input, whitespace included, before any
// parsing. It is our own limit, set well above MaxDocumentChars so that
// any formatted policy within MaxDocumentChars fits.
const maxDocumentBytes = 64 << 10

// Effect is the effect of a statement whose action, resource and
// conditions match a request.
type Effect string

// The effects a statement can have. Parse accepts exactly these spellings.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is an identity policy. A Document returned by Parse is
// validated and carries a compiled copy of its statements that Evaluate
// uses, so changing its fields afterwards does not change its decisions.
// To change a policy, parse the changed JSON.
type Document struct {
	Version    string
	Statements []Statement

	// compiled is set by Parse. Evaluate compiles a Document that was
	// built in code on every call.
	compiled []compiledStatement
}

// Statement is one statement of a policy. A nil Action, NotAction,
// Resource or NotResource means the element is absent. A statement with
// neither Resource nor NotResource applies to all resources. Condition
// maps an operator, as written (such as "ForAnyValue:StringEqualsIfExists"),
// to condition keys and their values.
type Statement struct {
	Sid         string
	Effect      Effect
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	Condition   map[string]map[string][]string
}

// Parse decodes and validates an identity policy document. The element
// names (Version, Statement, Sid, Effect, Action, NotAction, Resource,
// NotResource, Condition) are case-sensitive, and unknown elements and
// repeated member names are rejected. Statement may be an array of
// statements or a single statement object, as the Huawei Cloud
// Organizations SCP grammar allows. Huawei describes that grammar as
// similar to identity policies, whose pages show only arrays. Action,
// NotAction, Resource, NotResource and each condition key take a string or
// an array of strings. Condition values may also be JSON numbers or
// booleans, which are kept as their JSON text.
//
// Every error is a *userevents.Error with code EINVALID whose message
// names the statement, the element and the value, and describes the fix.
func Parse(doc []byte) (*Document, error) {
	if len(doc) > maxDocumentBytes {
		return nil, invalidf("The policy document is %d bytes; a policy may have at most %d characters, so split it into several policies.",
			len(doc), MaxDocumentChars)
	}

	var raw struct {
		Version   jsontext.Value `json:"Version"`
		Statement jsontext.Value `json:"Statement"`
	}
	if err := json.Unmarshal(doc, &raw, json.RejectUnknownMembers(true)); err != nil {
		return nil, jsonError(err)
	}
	if n := compactChars(doc); n > MaxDocumentChars {
		return nil, invalidf("The policy document has %d characters without whitespace; the limit is %d, so split it into several policies.",
			n, MaxDocumentChars)
	}

	d, err := decodeDocument(raw.Version, raw.Statement)
	if err != nil {
		return nil, err
	}
	if d.compiled, err = compile(d); err != nil {
		return nil, err
	}
	return d, nil
}

// compactChars returns the number of characters in doc, which must be
// valid JSON, after removing whitespace between tokens.
func compactChars(doc []byte) int {
	v := jsontext.Value(append([]byte(nil), doc...))
	if err := v.Compact(); err != nil {
		return utf8.RuneCount(doc)
	}
	return utf8.RuneCount(v)
}

func decodeDocument(version, statement jsontext.Value) (*Document, error) {
	d := &Document{}
	if len(version) == 0 {
		return nil, invalidf("The policy document has no Version; add \"Version\": %q.", Version)
	}
	if version.Kind() != '"' || json.Unmarshal(version, &d.Version) != nil {
		return nil, invalidf("Version is a JSON %s; set it to the string %q.", kindName(version), Version)
	}

	var items []jsontext.Value
	switch statement.Kind() {
	case jsontext.KindInvalid:
		return nil, invalidf("The policy document has no Statement; add a Statement array with at least one statement.")
	case '{':
		items = []jsontext.Value{statement}
	case '[':
		if err := json.Unmarshal(statement, &items); err != nil {
			return nil, jsonError(err)
		}
	default:
		return nil, invalidf("Statement is a JSON %s; write an array of statement objects.", kindName(statement))
	}
	if len(items) == 0 {
		return nil, invalidf("Statement is an empty array; add at least one statement.")
	}

	d.Statements = make([]Statement, len(items))
	for i, item := range items {
		if err := decodeStatement(item, i, &d.Statements[i]); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func decodeStatement(v jsontext.Value, i int, s *Statement) error {
	if v.Kind() != '{' {
		return invalidf("Statement[%d] is a JSON %s; write each statement as an object.", i, kindName(v))
	}
	var raw struct {
		Sid         jsontext.Value `json:"Sid"`
		Effect      jsontext.Value `json:"Effect"`
		Action      jsontext.Value `json:"Action"`
		NotAction   jsontext.Value `json:"NotAction"`
		Resource    jsontext.Value `json:"Resource"`
		NotResource jsontext.Value `json:"NotResource"`
		Condition   jsontext.Value `json:"Condition"`
	}
	err := json.Unmarshal(v, &raw, json.RejectUnknownMembers(true))
	if serr, ok := errors.AsType[*json.SemanticError](err); ok && serr.Err == json.ErrUnknownName {
		return invalidf("Statement[%d] has the unknown element %q; a statement may have only Sid, Effect, Action, NotAction, Resource, NotResource and Condition, spelled with that case.",
			i, serr.JSONPointer.LastToken())
	} else if err != nil {
		return jsonError(err)
	}

	if s.Sid, err = decodeString(raw.Sid, i, "Sid"); err != nil {
		return err
	}
	effect, err := decodeString(raw.Effect, i, "Effect")
	if err != nil {
		return err
	}
	s.Effect = Effect(effect)
	if s.Action, err = decodeStrings(raw.Action, i, "Action"); err != nil {
		return err
	}
	if s.NotAction, err = decodeStrings(raw.NotAction, i, "NotAction"); err != nil {
		return err
	}
	if s.Resource, err = decodeStrings(raw.Resource, i, "Resource"); err != nil {
		return err
	}
	if s.NotResource, err = decodeStrings(raw.NotResource, i, "NotResource"); err != nil {
		return err
	}
	s.Condition, err = decodeCondition(raw.Condition, i)
	return err
}

// decodeString decodes an optional string element. An absent element
// decodes as "".
func decodeString(v jsontext.Value, i int, element string) (string, error) {
	if len(v) == 0 {
		return "", nil
	}
	var s string
	if v.Kind() != '"' || json.Unmarshal(v, &s) != nil {
		return "", invalidf("Statement[%d].%s is a JSON %s; write it as a string.", i, element, kindName(v))
	}
	return s, nil
}

// decodeStrings decodes an optional element that is a string or an array
// of strings. It returns nil when the element is absent.
func decodeStrings(v jsontext.Value, i int, element string) ([]string, error) {
	switch v.Kind() {
	case jsontext.KindInvalid:
		return nil, nil
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, jsonError(err)
		}
		return []string{s}, nil
	case '[':
		var items []jsontext.Value
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, jsonError(err)
		}
		if len(items) == 0 {
			return nil, invalidf("Statement[%d].%s is an empty array; list at least one value or remove the element.", i, element)
		}
		out := make([]string, len(items))
		for j, item := range items {
			if item.Kind() != '"' || json.Unmarshal(item, &out[j]) != nil {
				return nil, invalidf("Statement[%d].%s[%d] is a JSON %s; write each value as a string.", i, element, j, kindName(item))
			}
		}
		return out, nil
	default:
		return nil, invalidf("Statement[%d].%s is a JSON %s; write a string or an array of strings.", i, element, kindName(v))
	}
}

// decodeCondition decodes the Condition element: an object of operators,
// each an object of condition keys. It returns nil when it is absent.
func decodeCondition(v jsontext.Value, i int) (map[string]map[string][]string, error) {
	if len(v) == 0 {
		return nil, nil
	}
	var ops map[string]jsontext.Value
	if v.Kind() != '{' || json.Unmarshal(v, &ops) != nil {
		return nil, invalidf("Statement[%d].Condition is a JSON %s; write an object that maps operators to condition keys.", i, kindName(v))
	}

	// Visit operators and keys in sorted order so that the first error
	// reported does not depend on map order.
	out := make(map[string]map[string][]string, len(ops))
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		keysValue := ops[op]
		var keys map[string]jsontext.Value
		if keysValue.Kind() != '{' || json.Unmarshal(keysValue, &keys) != nil {
			return nil, invalidf("Statement[%d].Condition.%s is a JSON %s; write an object that maps condition keys to values.",
				i, op, kindName(keysValue))
		}
		out[op] = make(map[string][]string, len(keys))
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			decoded, err := decodeConditionValues(keys[key], i, op, key)
			if err != nil {
				return nil, err
			}
			out[op][key] = decoded
		}
	}
	return out, nil
}

// decodeConditionValues decodes the values of one condition key: a string,
// number or boolean, or an array of them. Numbers and booleans become
// their JSON text.
func decodeConditionValues(v jsontext.Value, i int, op, key string) ([]string, error) {
	items := []jsontext.Value{v}
	if v.Kind() == '[' {
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, jsonError(err)
		}
		if len(items) == 0 {
			return nil, invalidf("Statement[%d].Condition.%s[%q] is an empty array; list at least one value.", i, op, key)
		}
	}

	out := make([]string, len(items))
	for j, item := range items {
		switch item.Kind() {
		case '"':
			if err := json.Unmarshal(item, &out[j]); err != nil {
				return nil, jsonError(err)
			}
		case '0', 't', 'f':
			out[j] = string(item)
		default:
			return nil, invalidf("Statement[%d].Condition.%s[%q] has a JSON %s value; write a string or an array of strings.",
				i, op, key, kindName(item))
		}
	}
	return out, nil
}

// jsonError turns an error of the JSON decoder into an EINVALID error
// that names the element by its location in the document.
func jsonError(err error) error {
	if serr, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
		if serr.Err == jsontext.ErrDuplicateName {
			return invalidf("%s appears more than once; keep only one %q member.",
				location(serr.JSONPointer), serr.JSONPointer.LastToken())
		}
		return invalidf("The policy document is not valid JSON: %v at byte offset %d; correct the syntax.",
			serr.Err, serr.ByteOffset)
	}
	if serr, ok := errors.AsType[*json.SemanticError](err); ok {
		if serr.Err == json.ErrUnknownName {
			return invalidf("The policy document has the unknown element %q; it may have only Version and Statement, spelled with that case.",
				serr.JSONPointer.LastToken())
		}
		if serr.JSONPointer == "" {
			return invalidf("The policy document is a JSON %s; write an object with Version and Statement.", kindWord(serr.JSONKind))
		}
		return invalidf("%s is a JSON %s, which is not valid there.", location(serr.JSONPointer), kindWord(serr.JSONKind))
	}
	return invalidf("The policy document cannot be decoded: %v.", err)
}

// location renders a JSON pointer into a policy document the way the
// messages of this package name elements, such as Statement[2].Action[0]
// or Statement[0].Condition.StringEquals["g:UserName"].
func location(p jsontext.Pointer) string {
	var b strings.Builder
	underCondition, depth := false, 0
	for tok := range p.Tokens() {
		switch {
		case b.Len() == 0:
			b.WriteString(tok)
		case underCondition && depth == 1:
			b.WriteString(`[` + strconv.Quote(tok) + `]`)
		case isIndex(tok):
			b.WriteString("[" + tok + "]")
		default:
			b.WriteString("." + tok)
		}
		if underCondition {
			depth++
		}
		if tok == "Condition" && !underCondition {
			underCondition = true
		}
	}
	if b.Len() == 0 {
		return "The policy document"
	}
	return b.String()
}

func isIndex(tok string) bool {
	if tok == "" {
		return false
	}
	for _, r := range tok {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// kindName returns the JSON type of v in words, for messages.
func kindName(v jsontext.Value) string {
	return kindWord(v.Kind())
}

func kindWord(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

func invalidf(format string, args ...any) error {
	return userevents.Errorf(userevents.EINVALID, format, args...)
}

// wireDocument is the JSON form that MarshalJSON writes: every list as an
// array, absent elements omitted.
type wireDocument struct {
	Version   string          `json:"Version"`
	Statement []wireStatement `json:"Statement"`
}

type wireStatement struct {
	Sid         string                         `json:"Sid,omitempty"`
	Effect      Effect                         `json:"Effect"`
	Action      []string                       `json:"Action,omitempty"`
	NotAction   []string                       `json:"NotAction,omitempty"`
	Resource    []string                       `json:"Resource,omitempty"`
	NotResource []string                       `json:"NotResource,omitempty"`
	Condition   map[string]map[string][]string `json:"Condition,omitempty"`
}

// MarshalJSON encodes the document as policy JSON that Parse accepts when
// the document is valid. Lists are always arrays, absent elements and an
// empty Sid are omitted, and object members are sorted by name.
func (d Document) MarshalJSON() ([]byte, error) {
	w := wireDocument{Version: d.Version, Statement: make([]wireStatement, len(d.Statements))}
	for i, s := range d.Statements {
		w.Statement[i] = wireStatement(s)
	}
	return json.Marshal(w, json.Deterministic(true))
}

// UnmarshalJSON parses b with Parse and replaces d with the result.
func (d *Document) UnmarshalJSON(b []byte) error {
	parsed, err := Parse(b)
	if err != nil {
		return err
	}
	*d = *parsed
	return nil
}
