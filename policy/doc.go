// Package policy parses, validates and evaluates Huawei Cloud IAM identity
// policies of the 5.0 grammar. It performs no I/O: callers store the
// policy JSON, attach policies to principals and build the Request.
//
// A policy has a Version, which must be "5.0", and statements. Each
// statement has an Effect (Allow or Deny), either Action or NotAction,
// optionally Resource or NotResource, and optionally Condition:
//
//	{
//	  "Version": "5.0",
//	  "Statement": [{
//	    "Effect": "Allow",
//	    "Action": ["lts:logStream:searchLog"],
//	    "Resource": ["lts:cn-north-4:*:logStream:*"],
//	    "Condition": {"IpAddress": {"g:SourceIp": ["192.0.2.0/24"]}}
//	  }]
//	}
//
// Actions have the form service:resourceType:operation and resources are
// URNs service:region:account-id:type:path; in both, "*" stands for any
// run of characters and "?" for one character. Actions match
// case-insensitively, as Huawei documents.
//
// Within one Condition, all operators must hold and, under one operator,
// all keys must hold; the values listed for one key are alternatives.
// Condition keys compare case-insensitively; operator and element names
// are case-sensitive.
//
// Evaluate applies the usual rule: an explicit Deny wins, otherwise any
// Allow grants, otherwise the request is denied by default.
package policy
