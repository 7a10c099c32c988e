// Package iampolicy authorizes IAM users with the identity policies
// attached to them and to their groups, as Huawei Cloud IAM 5.0 does: an
// account root may do everything, and any other user only what the default
// versions of its policies allow and no policy denies.
//
// The package sits between the store, which holds the policies, and the
// policy package, which evaluates them without I/O. It keeps no state that
// can go stale: policies are read from the store on every call, and only
// parsed documents are cached, keyed by their content.
package iampolicy

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/userevents/userevents"
	"github.com/userevents/userevents/policy"
)

var _ userevents.Authorizer = (*Authorizer)(nil)

// PolicySource finds the policies that apply to a user.
// userevents.IAMStore implements it.
type PolicySource interface {
	FindEffectivePolicies(ctx context.Context, userID string) ([]*userevents.EffectivePolicy, error)
}

// maxCachedDocuments bounds the parsed-document cache. The cache is
// emptied when it is full, which costs one parse per document afterwards.
const maxCachedDocuments = 4096

// Authorizer is a userevents.Authorizer that evaluates identity policies.
// Policies must be set. An Authorizer is safe for concurrent use.
type Authorizer struct {
	Policies PolicySource

	// Now is the clock for g:CurrentTime when the context carries no
	// userevents.CallContext; nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	documents map[[sha256.Size]byte]*policy.Document
}

// Authorize allows every action to an account root. For any other
// principal it evaluates the default versions of the policies attached to
// the user and to its groups, with the condition keys of the principal and
// of the userevents.CallContext in ctx. It returns nil when a statement
// allows the call and none denies it, a *userevents.DenialError otherwise,
// and an internal error when the policies cannot be read or a stored
// document does not parse.
func (a *Authorizer) Authorize(ctx context.Context, p *userevents.Principal, action, resource string) error {
	if p.Root {
		return nil
	}
	effective, err := a.Policies.FindEffectivePolicies(ctx, p.UserID)
	if err != nil {
		return fmt.Errorf("find identity policies of user %s: %w", p.UserID, err)
	}
	named := make([]policy.Named, 0, len(effective))
	for _, e := range effective {
		doc, err := a.document(e.Document)
		if err != nil {
			// %v, not %w: a stored document that does not parse is a
			// fault of the server, not an invalid request.
			return fmt.Errorf("parse identity policy %s (%s %s): %v", e.PolicyName, e.PolicyID, e.VersionID, err)
		}
		named = append(named, policy.Named{Name: e.PolicyName, Doc: doc})
	}

	cc, ok := userevents.CallContextFrom(ctx)
	if !ok || cc.Time.IsZero() {
		cc.Time = a.now()
	}
	decision := policy.Evaluate(named, policy.Request{
		Action:   action,
		Resource: resource,
		Context:  ConditionKeys(p, cc),
	})
	if decision.Allowed {
		return nil
	}
	return denial(p, action, resource, decision)
}

// ConditionKeys returns the global condition keys of a call by an IAM
// user: g:UserName, g:UserId, g:DomainName, g:DomainId, g:PrincipalAccount,
// g:PrincipalUrn, g:PrincipalType (User), g:SourceIp, g:CurrentTime
// (RFC 3339, UTC), g:MFAPresent (false, because the server has no MFA) and,
// for a project-scoped call, g:ProjectId. The extra keys of cc come last
// and replace keys of the same name.
func ConditionKeys(p *userevents.Principal, cc userevents.CallContext) map[string][]string {
	keys := map[string][]string{
		"g:UserName":         {p.UserName},
		"g:UserId":           {p.UserID},
		"g:DomainName":       {p.AccountName},
		"g:DomainId":         {p.AccountID},
		"g:PrincipalAccount": {p.AccountID},
		"g:PrincipalUrn":     {"iam::" + p.AccountID + ":user:" + p.UserName},
		"g:PrincipalType":    {"User"},
		"g:CurrentTime":      {cc.Time.UTC().Format(time.RFC3339)},
		"g:MFAPresent":       {"false"},
	}
	if p.SourceIP != "" {
		keys["g:SourceIp"] = []string{p.SourceIP}
	}
	if cc.ProjectID != "" {
		keys["g:ProjectId"] = []string{cc.ProjectID}
	}
	for k, v := range cc.Keys {
		keys[k] = v
	}
	return keys
}

// denial builds the error for a denied call. Its message names the action,
// the resource and, for an explicit deny, the statement that matched.
func denial(p *userevents.Principal, action, resource string, d policy.Decision) error {
	e := &userevents.DenialError{
		Action:         action,
		Resource:       resource,
		PolicyName:     d.PolicyName,
		StatementIndex: d.StatementIndex,
		Sid:            d.Sid,
	}
	if d.Effect == policy.Deny {
		statement := fmt.Sprintf("statement %d", d.StatementIndex)
		if d.Sid != "" {
			statement += fmt.Sprintf(" (Sid %q)", d.Sid)
		}
		e.Err = userevents.Errorf(userevents.EFORBIDDEN,
			"User %s is not allowed to perform %s on %s: %s of identity policy %s denies it; remove or narrow that statement.",
			p.UserName, action, resource, statement, d.PolicyName)
	} else {
		e.Err = userevents.Errorf(userevents.EFORBIDDEN,
			"User %s is not allowed to perform %s on %s: no identity policy of the user or its groups allows it; attach a policy that allows %s.",
			p.UserName, action, resource, action)
	}
	return e
}

// document returns the parsed form of a policy document. Parsed documents
// are cached by the SHA-256 of their text, so a changed default version is
// a different key and the cache never serves an old document.
func (a *Authorizer) document(text string) (*policy.Document, error) {
	sum := sha256.Sum256([]byte(text))
	a.mu.Lock()
	doc, ok := a.documents[sum]
	a.mu.Unlock()
	if ok {
		return doc, nil
	}

	doc, err := policy.Parse([]byte(text))
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.documents == nil || len(a.documents) >= maxCachedDocuments {
		a.documents = make(map[[sha256.Size]byte]*policy.Document)
	}
	a.documents[sum] = doc
	a.mu.Unlock()
	return doc, nil
}

func (a *Authorizer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// SystemPolicyStore stores the built-in identity policies.
// userevents.IAMStore implements it.
type SystemPolicyStore interface {
	PutSystemPolicy(ctx context.Context, name, description, document string) (*userevents.Policy, error)
}

// systemDescriptions are the descriptions that ListPoliciesV5 shows for
// the system policies of package policy.
var systemDescriptions = map[string]string{
	policy.WorkspaceUserEventsFullAccess.Name:     "Full access to Workspace user events and their LTS forwarding setting",
	policy.WorkspaceUserEventsReadOnlyAccess.Name: "Read-only access to Workspace user events and their LTS forwarding setting",
	policy.LTSFullAccess.Name:                     "Full access to LTS",
	policy.LTSReadOnlyAccess.Name:                 "Read-only access to LTS log groups, log streams and logs",
}

// PutSystemPolicies stores the system policies of package policy, so that
// ListPoliciesV5 lists them and they can be attached. Servers call it at
// start; a policy whose document changed gets a new default version.
func PutSystemPolicies(ctx context.Context, store SystemPolicyStore) error {
	for _, p := range policy.SystemPolicies() {
		document, err := p.Doc.MarshalJSON()
		if err != nil {
			return fmt.Errorf("encode system policy %s: %w", p.Name, err)
		}
		if _, err := store.PutSystemPolicy(ctx, p.Name, systemDescriptions[p.Name], string(document)); err != nil {
			return fmt.Errorf("store system policy %s: %w", p.Name, err)
		}
	}
	return nil
}
