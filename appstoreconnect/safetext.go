package appstoreconnect

import "strconv"

// safeText makes Apple's text safe to show on a terminal: control characters and escape
// sequences come out escaped, never interpreted.
func safeText(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
