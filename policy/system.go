package policy

import "fmt"

// System identity policies that the server attaches by name. Each is
// parsed when the package is initialised, and init panics if one does not
// parse.
//
// NOTE: no Huawei Cloud IAM 5.0 system identity policy for Workspace user
// events or for LTS was found, so the names and contents are ours. The
// names follow the pattern of Huawei system identity policies such as
// CCEFullPolicy and CBRReadOnlyPolicy.
var (
	// WorkspaceUserEventsFullAccess allows every user-events action of
	// Workspace.
	WorkspaceUserEventsFullAccess = mustParse("WorkspaceUserEventsFullAccessPolicy", `{
		"Version": "5.0",
		"Statement": [{"Effect": "Allow", "Action": ["workspace:userEvents:*"]}]
	}`)

	// WorkspaceUserEventsReadOnlyAccess allows listing user events and
	// reading the LTS forwarding setting. It does not grant the LTS actions
	// that setting depends on.
	WorkspaceUserEventsReadOnlyAccess = mustParse("WorkspaceUserEventsReadOnlyPolicy", `{
		"Version": "5.0",
		"Statement": [{
			"Effect": "Allow",
			"Action": ["workspace:userEvents:list", "workspace:userEvents:listLtsConfigurations"]
		}]
	}`)

	// LTSFullAccess allows every LTS action.
	LTSFullAccess = mustParse("LTSFullAccessPolicy", `{
		"Version": "5.0",
		"Statement": [{"Effect": "Allow", "Action": ["lts:*"]}]
	}`)

	// LTSReadOnlyAccess allows the LTS list and get actions of every
	// resource type, and searching the logs of a stream.
	LTSReadOnlyAccess = mustParse("LTSReadOnlyPolicy", `{
		"Version": "5.0",
		"Statement": [{
			"Effect": "Allow",
			"Action": ["lts:*:list*", "lts:*:get*", "lts:logStream:searchLog"]
		}]
	}`)
)

// SystemPolicies returns the system identity policies in a new slice that
// the caller may modify. The documents are shared and must not be changed.
func SystemPolicies() []Named {
	return []Named{
		WorkspaceUserEventsFullAccess,
		WorkspaceUserEventsReadOnlyAccess,
		LTSFullAccess,
		LTSReadOnlyAccess,
	}
}

func mustParse(name, doc string) Named {
	d, err := Parse([]byte(doc))
	if err != nil {
		panic(fmt.Sprintf("policy: system policy %s: %v", name, err))
	}
	return Named{Name: name, Doc: d}
}
