package tui

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/s2s-dev/s2s/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// harness drives a Model the way the program would, but synchronously: every Cmd is run and its
// message fed back to Update, so a test sees the state after all reads finished.
type harness struct {
	t         testing.TB
	m         *Model
	src       *fakeSource
	quit      bool
	clipboard []string
}

func newHarness(t testing.TB, cfg Config, caps ...store.Capture) *harness {
	t.Helper()
	src := newFake(caps...)
	src.t = t
	if cfg.Source == nil {
		cfg.Source = src
	}
	if cfg.Decode == nil {
		cfg.Decode = fakeDecoder(caps)
	}
	if cfg.Version == "" {
		cfg.Version = "v0.1.0"
	}
	if cfg.LocalURL == "" {
		cfg.LocalURL = "http://127.0.0.1:8080/"
	}
	if cfg.StorePath == "" {
		cfg.StorePath = "/home/dev/.local/share/s2s/captures.db"
	}
	if cfg.LogPath == "" {
		cfg.LogPath = "/home/dev/.local/share/s2s/s2s.log"
	}
	if cfg.Location == nil {
		cfg.Location = cet
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return base }
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg.Context = ctx
	h := &harness{t: t, src: src}
	if cfg.Clipboard == nil {
		cfg.Clipboard = func(text string) tea.Cmd {
			h.clipboard = append(h.clipboard, text)
			return nil
		}
	}
	h.m = New(cfg)
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	h.run(h.m.Init())
	return h
}

// run executes cmd and everything it leads to.
func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 10000 {
			h.t.Fatal("commands did not settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		switch msg := msg.(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			h.quit = true
		default:
			queue = append(queue, h.update(msg))
		}
	}
}

func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	h.run(h.update(msg))
}

// update calls Update with the fake source refusing reads, as Update must do no I/O.
func (h *harness) update(msg tea.Msg) tea.Cmd {
	h.src.inUpdate.Store(true)
	defer h.src.inUpdate.Store(false)
	_, cmd := h.m.Update(msg)
	return cmd
}

// press sends key presses: single characters as typed text, longer names as special keys.
func (h *harness) press(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// screen renders the view downsampled to a colour profile, as the terminal would receive it.
func (h *harness) screen(p colorprofile.Profile) string {
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: p}
	if _, err := w.WriteString(h.m.Render()); err != nil {
		h.t.Fatal(err)
	}
	return buf.String()
}

func (h *harness) plain() string { return h.screen(colorprofile.NoTTY) }

// golden compares got with testdata/<name>.golden, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run go test ./tui -update if the change is intended):\n%s",
			path, lineDiff(string(want), got))
	}
}

// lineDiff shows the lines of want and got that differ, numbered, with the lines around them.
func lineDiff(want, got string) string {
	w, g := lines(want), lines(got)
	n := max(len(w), len(g))
	at := func(ls []string, i int) (string, bool) {
		if i < len(ls) {
			return ls[i], true
		}
		return "", false
	}
	var b strings.Builder
	last := -2
	for i := 0; i < n; i++ {
		wl, wok := at(w, i)
		gl, gok := at(g, i)
		if wok == gok && wl == gl {
			continue
		}
		if i > last+1 {
			if c, ok := at(w, i-1); ok && i > 0 {
				fmt.Fprintf(&b, "  %3d   %s\n", i, c)
			}
		}
		if wok {
			fmt.Fprintf(&b, "- %3d | %s\n", i+1, wl)
		}
		if gok {
			fmt.Fprintf(&b, "+ %3d | %s\n", i+1, gl)
		}
		last = i
	}
	return b.String()
}

func lines(s string) []string { return strings.Split(s, "\n") }

// recordingTB notes failures instead of failing, to test the test helpers themselves.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestFakeSourceRefusesReadsInsideUpdate(t *testing.T) {
	rec := &recordingTB{TB: t}
	f := newFake()
	f.t = rec
	if _, err := f.Count(context.Background(), store.Filter{}); err != nil || len(rec.errors) != 0 {
		t.Fatalf("a read outside Update: %v %v", err, rec.errors)
	}
	f.inUpdate.Store(true)
	if _, err := f.Count(context.Background(), store.Filter{}); err != nil {
		t.Fatal(err)
	}
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "Source.Count called inside Update") {
		t.Errorf("errors %q", rec.errors)
	}
}

func TestGoldenMismatchShowsALineDiff(t *testing.T) {
	got := lineDiff("header\nsame\nold line\ntail\n", "header\nsame\nnew line\ntail\n")
	want := "    2   same\n-   3 | old line\n+   3 | new line\n"
	if got != want {
		t.Errorf("lineDiff =\n%s\nwant\n%s", got, want)
	}
}
