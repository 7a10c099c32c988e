package policy

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// valueType is the type that an operator compares its values as.
type valueType uint8

const (
	typeString valueType = iota
	typeNumber
	typeDate
	typeBool
	typeIP
	typeNull
)

// operator is a condition operator without its set qualifier or IfExists
// suffix. A negated operator holds for a request value exactly when its
// positive form does not, so StringNotEquals holds when the value equals
// none of the policy values.
type operator struct {
	typ    valueType
	negate bool

	// equal compares a request value with one policy value. It is set
	// for typeString.
	equal func(request, policy string) bool

	// accept reports whether the result of comparing a request value with
	// a policy value satisfies the operator. It is set for typeNumber and
	// typeDate.
	accept func(c int) bool
}

// operators lists the operators that Parse accepts. The Huawei Cloud
// Organizations SCP grammar, which also has Version 5.0 and which Huawei
// describes as similar to the identity-policy grammar, lists StringEquals, StringNotEquals, their IgnoreCase forms, StringMatch,
// StringNotMatch, the six Number operators and the Date comparisons. The
// IAM 5.0 grammar page uses StringEndWithIfExists and Bool in its example.
// The 1.1 grammar lists StringLike, StringNotLike, StringStartWith and
// StringEndWith.
//
// NOTE: DateEquals, DateNotEquals, IpAddress, NotIpAddress and Null are
// accepted with their usual meaning but were not confirmed in a Huawei
// page. The Not and IgnoreCase forms of StringStartWith and StringEndWith
// are rejected because no Huawei page listing them was found.
var operators = func() map[string]*operator {
	equals := func(c int) bool { return c == 0 }
	less := func(c int) bool { return c < 0 }
	lessOrEqual := func(c int) bool { return c <= 0 }
	greater := func(c int) bool { return c > 0 }
	greaterOrEqual := func(c int) bool { return c >= 0 }

	stringEquals := func(r, p string) bool { return r == p }
	stringLike := func(r, p string) bool { return matchGlob(p, r, 0) }

	return map[string]*operator{
		"StringEquals":              {typ: typeString, equal: stringEquals},
		"StringNotEquals":           {typ: typeString, equal: stringEquals, negate: true},
		"StringEqualsIgnoreCase":    {typ: typeString, equal: strings.EqualFold},
		"StringNotEqualsIgnoreCase": {typ: typeString, equal: strings.EqualFold, negate: true},
		"StringLike":                {typ: typeString, equal: stringLike},
		"StringNotLike":             {typ: typeString, equal: stringLike, negate: true},
		"StringMatch":               {typ: typeString, equal: stringLike},
		"StringNotMatch":            {typ: typeString, equal: stringLike, negate: true},
		"StringStartWith":           {typ: typeString, equal: strings.HasPrefix},
		"StringEndWith":             {typ: typeString, equal: strings.HasSuffix},

		"NumberEquals":            {typ: typeNumber, accept: equals},
		"NumberNotEquals":         {typ: typeNumber, accept: equals, negate: true},
		"NumberLessThan":          {typ: typeNumber, accept: less},
		"NumberLessThanEquals":    {typ: typeNumber, accept: lessOrEqual},
		"NumberGreaterThan":       {typ: typeNumber, accept: greater},
		"NumberGreaterThanEquals": {typ: typeNumber, accept: greaterOrEqual},

		"DateEquals":            {typ: typeDate, accept: equals},
		"DateNotEquals":         {typ: typeDate, accept: equals, negate: true},
		"DateLessThan":          {typ: typeDate, accept: less},
		"DateLessThanEquals":    {typ: typeDate, accept: lessOrEqual},
		"DateGreaterThan":       {typ: typeDate, accept: greater},
		"DateGreaterThanEquals": {typ: typeDate, accept: greaterOrEqual},

		"Bool":         {typ: typeBool},
		"IpAddress":    {typ: typeIP},
		"NotIpAddress": {typ: typeIP, negate: true},
		"Null":         {typ: typeNull},
	}
}()

// setQualifier is the ForAllValues: or ForAnyValue: prefix of an operator.
type setQualifier uint8

const (
	setNone setQualifier = iota
	setForAllValues
	setForAnyValue
)

const (
	prefixForAllValues = "ForAllValues:"
	prefixForAnyValue  = "ForAnyValue:"
	suffixIfExists     = "IfExists"
)

// condition is one condition key under one operator, with its policy
// values parsed for the operator's type.
type condition struct {
	op       *operator
	set      setQualifier
	ifExists bool
	key      string
	values   []string

	numbers  []float64
	times    []time.Time
	bools    []bool
	prefixes []netip.Prefix
}

// parseOperator splits an operator name such as
// "ForAnyValue:StringEqualsIfExists" into its parts. It returns a nil
// operator when the base name is unknown. Names are case-sensitive.
func parseOperator(name string) (op *operator, set setQualifier, ifExists bool) {
	switch {
	case strings.HasPrefix(name, prefixForAllValues):
		set, name = setForAllValues, name[len(prefixForAllValues):]
	case strings.HasPrefix(name, prefixForAnyValue):
		set, name = setForAnyValue, name[len(prefixForAnyValue):]
	}
	if base, ok := strings.CutSuffix(name, suffixIfExists); ok {
		name, ifExists = base, true
	}
	return operators[name], set, ifExists
}

// holds evaluates the condition against the request context.
//
// A key is missing when the context has no values for it. For a missing
// key, an IfExists operator holds, ForAllValues: holds (no value fails),
// ForAnyValue: does not hold (no value passes), a negated operator holds
// and any other operator does not. Null with "true" holds for a missing
// key, and Null with "false" for a present one.
//
// For a present key, a request value passes when it matches any policy
// value, or, for a negated operator, when it matches none. Without a set
// qualifier a positive operator needs one passing value and a negated one
// needs all values to pass; ForAnyValue: needs one and ForAllValues: all.
// A request value that does not parse as the operator's type matches no
// policy value.
func (c *condition) holds(ctx map[string][]string) bool {
	values := lookup(ctx, c.key)
	if c.op.typ == typeNull {
		return slices.Contains(c.bools, len(values) == 0)
	}

	if len(values) == 0 {
		switch {
		case c.ifExists, c.set == setForAllValues:
			return true
		case c.set == setForAnyValue:
			return false
		default:
			return c.op.negate
		}
	}

	all := c.set == setForAllValues || (c.set == setNone && c.op.negate)
	for _, v := range values {
		pass := c.matches(v) != c.op.negate
		if all && !pass {
			return false
		}
		if !all && pass {
			return true
		}
	}
	return all
}

// matches reports whether the request value v matches any policy value
// under the positive form of the operator.
func (c *condition) matches(v string) bool {
	switch c.op.typ {
	case typeString:
		for _, want := range c.values {
			if c.op.equal(v, want) {
				return true
			}
		}
	case typeNumber:
		n, ok := parseNumber(v)
		if !ok {
			return false
		}
		for _, want := range c.numbers {
			if c.op.accept(cmp.Compare(n, want)) {
				return true
			}
		}
	case typeDate:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, want := range c.times {
			if c.op.accept(t.Compare(want)) {
				return true
			}
		}
	case typeBool:
		b, ok := parseBool(v)
		return ok && slices.Contains(c.bools, b)
	case typeIP:
		addr, ok := parseRequestAddr(v)
		if !ok {
			return false
		}
		for _, p := range c.prefixes {
			if p.Contains(addr) {
				return true
			}
		}
	}
	return false
}

// lookup returns the context values of a condition key. Keys compare
// case-insensitively. An exact match is tried first because it is the
// common case and needs no scan.
func lookup(ctx map[string][]string, key string) []string {
	if v, ok := ctx[key]; ok {
		return v
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// parseValue parses the policy value s for the condition's operator type.
// When s does not parse, it returns a message fragment that describes
// the value expected.
func (c *condition) parseValue(s string) (problem string) {
	switch c.op.typ {
	case typeNumber:
		n, ok := parseNumber(s)
		if !ok {
			return `is not a number; write a decimal number such as "10" or "2.5"`
		}
		c.numbers = append(c.numbers, n)
	case typeDate:
		t, ok := parseDate(s)
		if !ok {
			return `is not an RFC 3339 time; write a time such as "2026-01-31T23:59:59Z"`
		}
		c.times = append(c.times, t)
	case typeBool, typeNull:
		b, ok := parseBool(s)
		if !ok {
			return `is not a boolean; write "true" or "false"`
		}
		c.bools = append(c.bools, b)
	case typeIP:
		p, ok := parsePolicyPrefix(s)
		if !ok {
			return `is not an IP address or CIDR block; write an address such as "192.0.2.10" or a block such as "192.0.2.0/24" or "2001:db8::/32"`
		}
		c.prefixes = append(c.prefixes, p)
	}
	return ""
}

// parseNumber parses a decimal number. NaN and infinities are rejected
// because they compare unequal to everything.
func parseNumber(s string) (float64, bool) {
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

// parseDate parses an RFC 3339 time, with or without fractional seconds.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// parseBool accepts "true" and "false" in any case.
func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parsePolicyPrefix parses a CIDR block or a single address, which becomes
// a block of one address. Host bits of a block are cleared, and an
// IPv4-mapped IPv6 block becomes the IPv4 block it maps so that it
// matches IPv4 request addresses.
func parsePolicyPrefix(s string) (netip.Prefix, bool) {
	if !strings.Contains(s, "/") {
		addr, err := netip.ParseAddr(s)
		if err != nil || addr.Zone() != "" {
			return netip.Prefix{}, false
		}
		addr = addr.Unmap()
		return netip.PrefixFrom(addr, addr.BitLen()), true
	}

	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// parseRequestAddr parses the address of a request, dropping any IPv6 zone
// and unmapping an IPv4-mapped address.
func parseRequestAddr(s string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.WithZone("").Unmap(), true
}
