package policy

import "testing"

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		name       string
		pattern    string
		text       string
		foldBefore int
		want       bool
	}{
		{"exact", "lts:logGroup:get", "lts:logGroup:get", 0, true},
		{"exact mismatch", "lts:logGroup:get", "lts:logGroup:list", 0, false},
		{"star alone", "*", "anything:at:all", 0, true},
		{"star matches empty text", "*", "", 0, true},
		{"empty pattern empty text", "", "", 0, true},
		{"empty pattern", "", "a", 0, false},
		{"trailing star", "lts:*", "lts:logGroup:get", 0, true},
		{"star spans colons", "lts:*:get*", "lts:logStream:getLogs", 0, true},
		{"star in middle", "a*c", "abbbc", 0, true},
		{"star in middle no end", "a*c", "abbbd", 0, false},
		{"several stars", "*a*b*c*", "xxaxxbxxcxx", 0, true},
		{"several stars missing", "*a*b*c*", "xxaxxcxxbxx", 0, false},
		{"star backtracks", "*ab", "aaab", 0, true},
		{"question one char", "g?t", "get", 0, true},
		{"question not zero chars", "g?t", "gt", 0, false},
		{"question not two chars", "g?t", "geet", 0, false},
		{"question one rune", "caf?", "café", 0, true},
		{"question multibyte middle", "a?c", "a世c", 0, true},
		{"question and star", "?*", "", 0, false},
		{"wildcard in text is literal", "abc", "a*c", 0, false},
		{"case differs without fold", "LTS:*", "lts:x", 0, false},
		{"case differs with fold", "LTS:*", "lts:x", 100, true},
		{"fold non ascii", "ÉTÉ", "été", 10, true},
		{"fold stops at boundary", "lts:r:a:T:PATH", "lts:r:a:t:path", 10, false},
		{"fold before boundary only", "LTS:R:A:T:path", "lts:r:a:t:path", 10, true},
		{"long backtracking", "*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchGlob(tt.pattern, tt.text, tt.foldBefore); got != tt.want {
				t.Errorf("matchGlob(%q, %q, %d) = %v, want %v", tt.pattern, tt.text, tt.foldBefore, got, tt.want)
			}
		})
	}
}

func TestURNFoldEnd(t *testing.T) {
	tests := []struct {
		urn  string
		want int
	}{
		{"lts:cn-north-4:acc:logGroup:id", len("lts:cn-north-4:acc:logGroup:")},
		{"obs:::object:bucket/a:b", len("obs:::object:")},
		{"*", 1},
		{"a:b", 3},
	}
	for _, tt := range tests {
		if got := urnFoldEnd(tt.urn); got != tt.want {
			t.Errorf("urnFoldEnd(%q) = %d, want %d", tt.urn, got, tt.want)
		}
	}
}
