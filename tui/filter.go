package tui

import (
	"github.com/s2s-dev/s2s/store"
)

// parseFilter maps the filter bar's text to a store.Filter through the one filter grammar that
// captures, replay and forwarding rules also read (store.ParseFilter): KEY:VALUE terms (type:,
// subtype:, env:, trust:, product:, bundle:, otid:, uuid:) and free text. A mistake is an error
// naming the key or value and the valid ones, shown in place of a list that matches nothing.
func parseFilter(text string) (store.Filter, error) {
	return store.ParseFilter(text)
}
