package tui

import (
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
)

// Everything a capture carries came from the network (or from a payload someone signed): an
// escape sequence in a header, a body or a product ID must show as text, never reach the
// terminal, and a bidi or zero-width character must not reorder a line or shift a column.
// termsafe shows them escaped ("\x1b", "\u202e"; a newline as "\n" in one-line fields).

func cleanLine(s string) string { return termsafe.String(s) }
func cleanText(s string) string { return termsafe.Text(s) }

// cleanCapture cleans every text field shown on screen; the body is cleaned where it is shown,
// so copies and exports keep the exact bytes.
func cleanCapture(c *store.Capture) { *c = c.Printable() }

func cleanDelivery(d *store.Delivery) { *d = d.Printable() }
