package decode

import "testing"

// Every command reads environments through these two parsers, so they accept the same words.
func TestParseEnvironment(t *testing.T) {
	for in, want := range map[string]Environment{
		"sandbox": EnvSandbox, " SBX ": EnvSandbox, "sb": EnvSandbox, "Production": EnvProduction,
		"prod": EnvProduction, "PROD": EnvProduction, "xcode": EnvXcode, "local": EnvLocalTesting,
	} {
		if got, ok := ParseEnvironment(in); !ok || got != want {
			t.Errorf("ParseEnvironment(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "staging", "Sandboxes"} {
		if got, ok := ParseEnvironment(in); ok {
			t.Errorf("ParseEnvironment(%q) = %q, want refused", in, got)
		}
	}
	for in, want := range map[string]Environment{"prod": EnvProduction, "Sandbox": EnvSandbox} {
		if got, ok := ParseServerEnvironment(in); !ok || got != want {
			t.Errorf("ParseServerEnvironment(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"Xcode", "LocalTesting", ""} {
		if got, ok := ParseServerEnvironment(in); ok {
			t.Errorf("ParseServerEnvironment(%q) = %q, want refused", in, got)
		}
	}
}
