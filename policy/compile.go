package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
)

// compiledStatement is a validated statement in the form Evaluate uses.
type compiledStatement struct {
	effect      Effect
	sid         string
	actions     []string // patterns of Action, or of NotAction when notAction
	notAction   bool
	resources   []string // nil when the statement applies to all resources
	notResource bool
	conditions  []condition
}

// compile validates d and returns its statements in compiled form. Errors
// are EINVALID and name the statement and element that failed.
func compile(d *Document) ([]compiledStatement, error) {
	if d.Version != Version {
		return nil, invalidf("Version is %q; identity policies must set Version to %q.", d.Version, Version)
	}
	if len(d.Statements) == 0 {
		return nil, invalidf("The policy document has no statements; add at least one statement.")
	}

	out := make([]compiledStatement, len(d.Statements))
	for i := range d.Statements {
		if err := compileStatement(&d.Statements[i], i, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func compileStatement(s *Statement, i int, c *compiledStatement) error {
	switch s.Effect {
	case Allow, Deny:
		c.effect, c.sid = s.Effect, s.Sid
	case "":
		return invalidf(`Statement[%d] has no Effect; add "Effect": "Allow" or "Effect": "Deny".`, i)
	default:
		return invalidf(`Statement[%d].Effect is %q; set it to "Allow" or "Deny", with that case.`, i, s.Effect)
	}

	switch {
	case s.Action != nil && s.NotAction != nil:
		return invalidf("Statement[%d] has both Action and NotAction; keep only one of them.", i)
	case s.Action != nil:
		c.actions = slices.Clone(s.Action)
	case s.NotAction != nil:
		c.actions, c.notAction = slices.Clone(s.NotAction), true
	default:
		return invalidf("Statement[%d] has neither Action nor NotAction; add an Action that lists the actions it allows or denies.", i)
	}
	element := "Action"
	if c.notAction {
		element = "NotAction"
	}
	if err := checkList(c.actions, i, element, checkAction); err != nil {
		return err
	}

	switch {
	case s.Resource != nil && s.NotResource != nil:
		return invalidf("Statement[%d] has both Resource and NotResource; keep only one of them.", i)
	case s.Resource != nil:
		c.resources = slices.Clone(s.Resource)
		if err := checkList(c.resources, i, "Resource", checkResource); err != nil {
			return err
		}
	case s.NotResource != nil:
		c.resources, c.notResource = slices.Clone(s.NotResource), true
		if err := checkList(c.resources, i, "NotResource", checkResource); err != nil {
			return err
		}
	}

	var err error
	c.conditions, err = compileConditions(s.Condition, i)
	return err
}

// checkList applies check to each item of a non-empty list element.
func checkList(items []string, i int, element string, check func(string) string) error {
	if len(items) == 0 {
		return invalidf("Statement[%d].%s is empty; list at least one value or remove the element.", i, element)
	}
	for j, item := range items {
		if problem := check(item); problem != "" {
			return invalidf("Statement[%d].%s[%d] %q %s.", i, element, j, item, problem)
		}
	}
	return nil
}

// checkAction validates an action pattern: "*" or up to three
// colon-separated parts service:resourceType:operation, each non-empty.
// A pattern of fewer than three parts must end with "*" because it could
// match no action otherwise. It returns what is wrong, or "".
func checkAction(a string) string {
	if a == "" {
		return `is empty; write an action such as "lts:logStream:searchLog", or "*" for all actions`
	}
	for _, r := range a {
		if !isActionRune(r) {
			return fmt.Sprintf(`contains %q; an action may contain only letters, digits, ":", "-", "_", "." and the wildcards "*" and "?"`, r)
		}
	}

	parts := strings.Split(a, ":")
	switch {
	case len(parts) > 3:
		return "has more than three parts; write service:resourceType:operation"
	case slices.Contains(parts, ""):
		return `has an empty part; write service:resourceType:operation, with "*" for a part that may be anything`
	case len(parts) < 3 && !strings.HasSuffix(a, "*"):
		return `names no operation; write service:resourceType:operation, or end a shorter pattern with "*" as in "lts:*"`
	}
	return ""
}

func isActionRune(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(":-_.*?", r))
}

// checkResource validates a resource pattern: "*" or a URN
// service:region:account-id:type:path. Region, account and type may be
// empty, as in the URNs of global services; the path may contain colons.
// It returns what is wrong, or "".
func checkResource(r string) string {
	const fix = `; write a URN service:region:account-id:type:path such as "lts:cn-north-4:<account-id>:logGroup:<id>", or "*" for all resources`
	if r == "*" {
		return ""
	}
	if strings.IndexFunc(r, unicode.IsControl) >= 0 {
		return "contains a control character" + fix
	}

	parts := strings.SplitN(r, ":", 5)
	switch {
	case len(parts) < 5:
		return "is not a URN" + fix
	case parts[0] == "":
		return "has no service" + fix
	case parts[4] == "":
		return "has no resource path" + fix
	}
	return ""
}

// compileConditions validates and compiles a Condition element. Operators
// and keys are visited in sorted order so that the first error reported
// does not depend on map order.
func compileConditions(cond map[string]map[string][]string, i int) ([]condition, error) {
	var out []condition
	for _, name := range slices.Sorted(maps.Keys(cond)) {
		op, set, ifExists := parseOperator(name)
		if op == nil {
			return nil, invalidf("Statement[%d].Condition has the unsupported operator %q; use an operator such as StringEquals, StringLike, NumberLessThan, DateGreaterThan, Bool, IpAddress or Null, optionally with the IfExists suffix or a ForAllValues: or ForAnyValue: prefix, with that case.",
				i, name)
		}
		if op.typ == typeNull && (ifExists || set != setNone) {
			return nil, invalidf("Statement[%d].Condition has the operator %q; Null already tests whether a key exists, so write plain Null.", i, name)
		}

		keys := cond[name]
		if len(keys) == 0 {
			return nil, invalidf(`Statement[%d].Condition.%s has no condition keys; add a key such as "g:UserName" or remove the operator.`, i, name)
		}
		folded := make(map[string]string, len(keys)) // lower-case key to key as written
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			if other, ok := folded[strings.ToLower(key)]; ok {
				return nil, invalidf("Statement[%d].Condition.%s has the keys %q and %q, which are the same key because condition keys are case-insensitive; merge their values under one key.",
					i, name, other, key)
			}
			folded[strings.ToLower(key)] = key

			c, err := compileCondition(op, set, ifExists, key, keys[key], i, name)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func compileCondition(op *operator, set setQualifier, ifExists bool, key string, values []string, i int, name string) (condition, error) {
	c := condition{op: op, set: set, ifExists: ifExists, key: key, values: slices.Clone(values)}
	if prefix, rest, ok := strings.Cut(key, ":"); !ok || prefix == "" || rest == "" ||
		strings.IndexFunc(key, unicode.IsControl) >= 0 {
		return c, invalidf(`Statement[%d].Condition.%s has the key %q, which is not a condition key; write prefix:name, such as "g:SourceIp".`, i, name, key)
	}
	if len(values) == 0 {
		return c, invalidf("Statement[%d].Condition.%s[%q] has no values; list at least one value.", i, name, key)
	}
	for _, v := range values {
		if problem := c.parseValue(v); problem != "" {
			return c, invalidf("Statement[%d].Condition.%s[%q] value %q %s.", i, name, key, v, problem)
		}
	}
	return c, nil
}
