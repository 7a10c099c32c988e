package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// matchGlob reports whether text matches pattern, where '*' in the pattern
// matches any run of characters (including none) and '?' exactly one
// character. Characters are runes, not bytes. A rune of text at a byte
// offset below foldBefore is compared case-insensitively, and from
// foldBefore on, comparison is exact. Wildcards in text are literal.
//
// The matcher keeps only the most recent '*' to backtrack to, so the cost
// is O(len(pattern) × len(text)) in the worst case and never exponential.
func matchGlob(pattern, text string, foldBefore int) bool {
	var p, t int           // byte offsets into pattern and text
	starP, starT := -1, -1 // offsets just past the last '*', and where it resumed in text
	for t < len(text) {
		if p < len(pattern) {
			pr, pn := utf8.DecodeRuneInString(pattern[p:])
			tr, tn := utf8.DecodeRuneInString(text[t:])
			switch {
			case pr == '*':
				p += pn
				starP, starT = p, t
				continue
			case pr == '?' || runesEqual(pr, tr, t < foldBefore):
				p += pn
				t += tn
				continue
			}
		}
		if starP < 0 {
			return false
		}

		// Let the last '*' absorb one more character of text and retry.
		_, tn := utf8.DecodeRuneInString(text[starT:])
		starT += tn
		p, t = starP, starT
	}
	return strings.Trim(pattern[p:], "*") == ""
}

func runesEqual(a, b rune, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	return unicode.ToLower(a) == unicode.ToLower(b) || unicode.ToUpper(a) == unicode.ToUpper(b)
}

// urnFoldEnd returns the byte offset just past the fourth ':' of urn, which
// ends the service, region, account and type segments. Those segments
// compare case-insensitively and the resource path after them exactly. A
// string with fewer than four colons is compared case-insensitively whole.
func urnFoldEnd(urn string) int {
	colons := 0
	for i := 0; i < len(urn); i++ {
		if urn[i] == ':' {
			colons++
			if colons == 4 {
				return i + 1
			}
		}
	}
	return len(urn)
}
