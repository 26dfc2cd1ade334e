package tui

import "charm.land/bubbles/v2/key"

// keyMap holds every binding, so the help line and the ? overlay always name the keys that work.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Close                             key.Binding
	NextTab, PrevTab                        key.Binding
	Filter, ClearFilter, Follow             key.Binding
	CopyJSON, CopyRaw                       key.Binding
	ExportRaw, ExportJSON                   key.Binding
	SendTest, Replay                        key.Binding
	AppleView, ImportApple                  key.Binding
	Help, Quit                              key.Binding
	move                                    key.Binding // display only: ↑↓ in the short help
}

func newKeyMap() keyMap {
	return keyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "newest")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "oldest")),
		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Close:       key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		NextTab:     key.NewBinding(key.WithKeys("tab", "right", "l"), key.WithHelp("tab/→", "next tab")),
		PrevTab:     key.NewBinding(key.WithKeys("shift+tab", "left", "h"), key.WithHelp("shift+tab/←", "prev tab")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Follow:      key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
		CopyJSON:    key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy decoded JSON")),
		CopyRaw:     key.NewBinding(key.WithKeys("Y"), key.WithHelp("Y", "copy raw body")),
		ExportRaw:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "export raw body")),
		ExportJSON:  key.NewBinding(key.WithKeys("X"), key.WithHelp("X", "export decoded JSON")),
		SendTest:    key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "send test")),
		Replay:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "replay")),
		AppleView:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "Apple's view (Timeline)")),
		ImportApple: key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "import from Apple")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		move:        key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑↓", "move")),
	}
}

// ShortHelp is the one-line help under the screen; it changes with the view.
func (k keyMap) ShortHelp(inDetail bool) []key.Binding {
	short := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	if inDetail {
		tabs := k.NextTab
		tabs.SetHelp("tab", "tabs")
		return []key.Binding{tabs, short(k.move, "scroll"), short(k.Close, "back"), short(k.CopyJSON, "copy"),
			short(k.ExportRaw, "export"), short(k.Replay, "replay"), k.Help, k.Quit}
	}
	return []key.Binding{k.move, k.Open, k.Filter, k.Follow, short(k.SendTest, "test"), short(k.Replay, "replay"), k.Help, k.Quit}
}

func (k keyMap) navHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Open, k.Close, k.NextTab, k.PrevTab},
		{k.Filter, k.ClearFilter, k.Follow},
	}
}

func (k keyMap) actionHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.CopyJSON, k.CopyRaw, k.ExportRaw, k.ExportJSON},
		{k.SendTest, k.Replay, k.AppleView, k.ImportApple},
		{k.Help, k.Quit},
	}
}
