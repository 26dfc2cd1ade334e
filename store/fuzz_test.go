package store

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzFilterText checks the free-text filter, the one place where user input shapes a query: it
// must never fail, LIKE wildcards in the input must match literally, and List, Count and a plain
// Go substring search must agree.
func FuzzFilterText(f *testing.F) {
	s := openTemp(f)
	ctx := testCtx(f)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const n = 60
	bulkInsert(f, s, n, func(i int) *Capture {
		c := synthetic(i, nil, base)
		if i%10 == 0 {
			c.Path = fmt.Sprintf("/hooks/100%%_done/%d", i) // literal % and _ to find
		}
		return c
	})
	all, err := s.List(ctx, Filter{Limit: -1})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", "DID_RENEW", "renew", "%", "_", "100%_", `\`, `\%`, "'", `"`, "%%", "com.example", "1470168868", " yearly ", "é"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, err := s.List(ctx, Filter{Text: text, Limit: -1})
		if err != nil {
			t.Fatalf("List(%q): %v", text, err)
		}
		count, err := s.Count(ctx, Filter{Text: text})
		if err != nil {
			t.Fatalf("Count(%q): %v", text, err)
		}
		if count != len(got) {
			t.Fatalf("Count(%q) = %d, List has %d", text, count, len(got))
		}
		needle := strings.TrimSpace(text)
		if !utf8.ValidString(needle) || strings.ContainsRune(needle, 0) {
			return // SQLite compares characters; a Go byte search is no oracle for these
		}
		var want []int64
		for _, c := range all {
			if matchesText(c, asciiLower(needle)) {
				want = append(want, c.ID)
			}
		}
		if fmt.Sprint(idsOf(got)) != fmt.Sprint(want) {
			t.Fatalf("Text %q: got %v, want %v", text, idsOf(got), want)
		}
	})
}

func matchesText(c Capture, needle string) bool {
	for _, v := range []string{c.Type, c.Subtype, c.ProductID, c.NotificationUUID, c.OriginalTransactionID,
		c.TransactionID, c.BundleID, c.Path, fmt.Sprint(c.AppAppleID)} {
		if strings.Contains(asciiLower(v), needle) {
			return true
		}
	}
	return false
}
