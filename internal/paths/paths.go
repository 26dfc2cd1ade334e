// Package paths resolves where s2s keeps its store, its test signing chain and its state file.
// Every location can be overridden by an environment variable so tests never touch a real home.
package paths

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Getenv looks up an environment variable; commands inject it so tests control the environment.
type Getenv func(string) string

// DataDir is $XDG_DATA_HOME/s2s (default ~/.local/share/s2s).
func DataDir(getenv Getenv) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "s2s")
	}
	if home := homeDir(getenv); home != "" {
		return filepath.Join(home, ".local", "share", "s2s")
	}
	return filepath.Join(os.TempDir(), "s2s")
}

// StorePath is the capture database: S2S_STORE, else DataDir/captures.db.
func StorePath(getenv Getenv) string {
	if p := getenv("S2S_STORE"); p != "" {
		return p
	}
	return filepath.Join(DataDir(getenv), "captures.db")
}

// ConfigDir holds the local test signing chain: S2S_CONFIG_DIR, else the user config dir.
func ConfigDir(getenv Getenv) string {
	if d := getenv("S2S_CONFIG_DIR"); d != "" {
		return d
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "s2s")
	}
	if home := homeDir(getenv); home != "" {
		return filepath.Join(home, ".config", "s2s")
	}
	return filepath.Join(os.TempDir(), "s2s-config")
}

// StateDir holds the running listener's state file: S2S_STATE_DIR, else beside the config.
func StateDir(getenv Getenv) string {
	if d := getenv("S2S_STATE_DIR"); d != "" {
		return d
	}
	return ConfigDir(getenv)
}

// ListenersDir is where each running `s2s listen` or `s2s hub` records its URL (one file per
// process) for `s2s send-test`, replay and the MCP server to find.
func ListenersDir(getenv Getenv) string {
	return filepath.Join(StateDir(getenv), "listeners")
}

// LogFile is where the TUI sends log lines so they never draw over the screen.
func LogFile(getenv Getenv) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "s2s", "s2s.log")
	}
	return filepath.Join(DataDir(getenv), "s2s.log")
}

func homeDir(getenv Getenv) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// ConnectStateFile is where `s2s listen --connect` records the App Store Connect setting it
// replaced for bundleID, until it is restored. Characters outside Apple's bundle ID alphabet
// (letters, digits, '-' and '.') are hex-escaped so the name is always one plain file name.
func ConnectStateFile(getenv Getenv, bundleID string) string {
	var b strings.Builder
	for i := 0; i < len(bundleID); i++ {
		c := bundleID[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return filepath.Join(StateDir(getenv), "connect-"+b.String()+".json")
}
