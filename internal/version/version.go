// Package version reports the build's version, stamped with -ldflags or read from the build info.
package version

import (
	"fmt"
	"runtime/debug"
)

// Set with -ldflags "-X github.com/s2s-dev/s2s/internal/version.Version=v1.2.3 ...".
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info is the resolved version of this binary.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Date    string `json:"date,omitempty"`
	Go      string `json:"go"`
}

// Get resolves the version: ldflags first, then the module build info that `go install` records.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, Date: Date}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		info.Go = bi.GoVersion
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			case "vcs.modified":
				if s.Value == "true" && info.Commit != "" && Commit == "" {
					info.Commit += "-dirty"
				}
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}

// Short is the one-line form used in the TUI header and --version.
func (i Info) Short() string {
	s := i.Version
	if c := i.Commit; c != "" {
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (" + c + ")"
	}
	return s
}

// String is the long form printed by `s2s version`.
func (i Info) String() string {
	s := fmt.Sprintf("s2s %s", i.Version)
	if i.Commit != "" {
		s += "\ncommit: " + i.Commit
	}
	if i.Date != "" {
		s += "\nbuilt:  " + i.Date
	}
	if i.Go != "" {
		s += "\ngo:     " + i.Go
	}
	return s
}
