package cmd

import (
	"bytes"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// While the TUI owns the terminal, log lines must land in the log file, and the loggers must be
// given back afterwards.
func TestLogToRedirectsAndRestores(t *testing.T) {
	var before bytes.Buffer
	log.SetOutput(&before)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })

	path := filepath.Join(t.TempDir(), "state", "s2s.log")
	lf, err := openLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	restore := logTo(lf)
	log.Print("from log")
	slog.Info("from slog", "id", 7)
	restore()
	log.Print("after")
	lf.Close()

	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"from log", "from slog", "id=7"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("log file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "after") || !strings.Contains(before.String(), "after") {
		t.Errorf("logger not restored: file %q, original %q", got, before.String())
	}
}
