package policy

// Request is the call that Evaluate decides.
type Request struct {
	// Action is the action of the call, such as "workspace:userEvents:list".
	// Actions match statement patterns case-insensitively.
	Action string

	// Resource is the URN of the resource the call acts on, or "*" for an
	// action that has no resource type. "" means "*". The service, region,
	// account and type segments of a URN match case-insensitively and the
	// resource path exactly.
	//
	// NOTE: Huawei does not document whether URN matching is
	// case-sensitive; matching the path exactly is our choice because
	// resource names and IDs are case-sensitive.
	Resource string

	// Context maps condition keys, such as g:UserName, g:SourceIp,
	// g:CurrentTime (RFC 3339) and g:MFAPresent ("true" or "false"), to
	// their values in the call. Keys compare case-insensitively, so the
	// context should not hold two keys that differ only in case. Evaluate
	// adds no keys of its own, so a key the caller leaves out, or gives no
	// values, is missing.
	Context map[string][]string
}

// Decision is the outcome of Evaluate and the statement that decided it.
type Decision struct {
	Allowed bool

	// Effect is the effect of the deciding statement, or "" when no
	// statement applied and the request is denied by default.
	Effect Effect

	// PolicyName, StatementIndex and Sid identify the deciding statement.
	// For a default deny they are "", -1 and "".
	PolicyName     string
	StatementIndex int
	Sid            string
}

// Named is a policy document with the name it is attached under.
type Named struct {
	Name string
	Doc  *Document
}

// Evaluate decides a request against the policies attached to a principal.
// A statement applies when the action matches Action (or no pattern of
// NotAction), the resource matches Resource (or no pattern of
// NotResource, or neither element is present) and every condition holds.
// An applying Deny statement denies the request whatever else applies.
// Otherwise an applying Allow statement allows it, and when no statement
// applies the request is denied by default. Among statements of the same
// effect, the first in policy and statement order is reported.
//
// A request for the resource "*" matches a Resource pattern only when the
// pattern is "*". So a statement that lists URNs never grants an action
// that has no resource type, and a NotResource statement grants it unless
// it lists "*".
//
// Policies with a nil Doc are skipped, and an empty Action is denied by
// default. A Document that was not returned by Parse is validated on each
// call. If it is invalid, Evaluate returns a Deny decision that names the
// policy with StatementIndex -1, so that a malformed policy never grants
// access.
func Evaluate(policies []Named, req Request) Decision {
	decision := Decision{StatementIndex: -1}
	if req.Action == "" {
		return decision
	}
	resource := req.Resource
	if resource == "" {
		resource = "*"
	}
	foldEnd := urnFoldEnd(resource)

	allowed := false
	for _, p := range policies {
		if p.Doc == nil {
			continue
		}
		statements, err := p.Doc.statements()
		if err != nil {
			return Decision{Effect: Deny, PolicyName: p.Name, StatementIndex: -1}
		}
		for i := range statements {
			s := &statements[i]
			if s.effect == Allow && allowed {
				continue // only a Deny can still change the outcome
			}
			if !s.applies(req.Action, resource, foldEnd, req.Context) {
				continue
			}
			if s.effect == Deny {
				return Decision{Effect: Deny, PolicyName: p.Name, StatementIndex: i, Sid: s.sid}
			}
			decision = Decision{Allowed: true, Effect: Allow, PolicyName: p.Name, StatementIndex: i, Sid: s.sid}
			allowed = true
		}
	}
	return decision
}

// statements returns the compiled statements of d, compiling them when d
// was not returned by Parse.
func (d *Document) statements() ([]compiledStatement, error) {
	if d.compiled != nil {
		return d.compiled, nil
	}
	return compile(d)
}

func (s *compiledStatement) applies(action, resource string, foldEnd int, ctx map[string][]string) bool {
	if matchAny(s.actions, action, len(action)) == s.notAction {
		return false
	}
	if s.resources != nil && matchAny(s.resources, resource, foldEnd) == s.notResource {
		return false
	}
	for i := range s.conditions {
		if !s.conditions[i].holds(ctx) {
			return false
		}
	}
	return true
}

func matchAny(patterns []string, text string, foldBefore int) bool {
	for _, p := range patterns {
		if matchGlob(p, text, foldBefore) {
			return true
		}
	}
	return false
}
