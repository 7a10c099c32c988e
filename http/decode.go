package http

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/userevents/userevents"
)

// decodeStrict decodes a JSON object body into v. Member names match case
// sensitively, duplicate names and unknown members are rejected, and
// nothing but white space may follow the object. A client that sends
// {"enable":true,"Enable":false} therefore gets a 400 instead of one of
// two readings.
func decodeStrict(body []byte, v any) error {
	return decode(body, v, json.RejectUnknownMembers(true))
}

// decodeLenient is decodeStrict without the unknown-member check, for APIs
// whose clients send members we do not model (the LTS management API).
func decodeLenient(body []byte, v any) error {
	return decode(body, v)
}

func decode(body []byte, v any, opts ...json.Options) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return userevents.Errorf(userevents.EEMPTY,
			"The request body is empty; send a JSON object.")
	}
	if err := json.Unmarshal(body, v, opts...); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError rewrites a decoding error as an EINVALID naming the member and
// what to send instead.
func jsonError(err error) error {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		return userevents.Errorf(userevents.EINVALID,
			"The JSON member %q appears more than once; send each member once.", memberName(syn.JSONPointer))
	case errors.As(err, &syn):
		return userevents.Errorf(userevents.EINVALID,
			"The JSON is invalid at byte %d: %v; send one JSON object.", syn.ByteOffset, syn.Err)
	case errors.As(err, &sem) && errors.Is(sem.Err, json.ErrUnknownName):
		return userevents.Errorf(userevents.EINVALID,
			"The JSON member %q is unknown; remove it, and check the spelling and case of member names.",
			memberName(sem.JSONPointer))
	case errors.As(err, &sem):
		want := "another type"
		if sem.GoType != nil {
			want = jsonTypeName(sem.GoType.String())
		}
		got := sem.JSONKind.String()
		return userevents.Errorf(userevents.EINVALID,
			"The member %q has a JSON %s value but must be %s; send a value of that type.", memberName(sem.JSONPointer), got, want)
	default:
		return userevents.Errorf(userevents.EINVALID, "The JSON is invalid: %v.", err)
	}
}

// memberName returns the path of a JSON pointer in the dotted form that
// error messages use, such as items[3].event_time.
func memberName(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return "(root)"
	}
	return b.String()
}

func jsonTypeName(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "bool":
		return "a boolean (true or false)"
	case "string":
		return "a string"
	case "int", "int32", "int64":
		return "an integer"
	default:
		if strings.HasPrefix(goType, "[]") {
			return "an array"
		}
		if strings.HasPrefix(goType, "map[") || strings.Contains(goType, ".") {
			return "an object"
		}
		return goType
	}
}
