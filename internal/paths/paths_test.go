package paths

import (
	"path/filepath"
	"testing"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestPrecedence(t *testing.T) {
	home := map[string]string{"HOME": "/h"}
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"store default", StorePath(env(home)), "/h/.local/share/s2s/captures.db"},
		{"store under XDG_DATA_HOME", StorePath(env(map[string]string{"HOME": "/h", "XDG_DATA_HOME": "/x"})), "/x/s2s/captures.db"},
		{"S2S_STORE wins", StorePath(env(map[string]string{"HOME": "/h", "XDG_DATA_HOME": "/x", "S2S_STORE": "/s/c.db"})), "/s/c.db"},
		{"config default", ConfigDir(env(home)), "/h/.config/s2s"},
		{"config under XDG_CONFIG_HOME", ConfigDir(env(map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/x"})), "/x/s2s"},
		{"S2S_CONFIG_DIR wins", ConfigDir(env(map[string]string{"XDG_CONFIG_HOME": "/x", "S2S_CONFIG_DIR": "/c"})), "/c"},
		{"state beside the config", ListenersDir(env(map[string]string{"S2S_CONFIG_DIR": "/c"})), "/c/listeners"},
		{"S2S_STATE_DIR wins", ListenersDir(env(map[string]string{"S2S_CONFIG_DIR": "/c", "S2S_STATE_DIR": "/st"})), "/st/listeners"},
		{"log in the data dir", LogFile(env(home)), "/h/.local/share/s2s/s2s.log"},
		{"log under XDG_STATE_HOME", LogFile(env(map[string]string{"HOME": "/h", "XDG_STATE_HOME": "/xs"})), "/xs/s2s/s2s.log"},
	} {
		if tc.got != filepath.FromSlash(tc.want) {
			t.Errorf("%s: %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestConnectStateFile(t *testing.T) {
	g := env(map[string]string{"S2S_STATE_DIR": "/state"})
	for id, want := range map[string]string{
		"com.example.app": "connect-com.example.app.json",
		"../x":            "connect-_2e._2fx.json", // a leading dot and a slash never make a path
		"a/b":             "connect-a_2fb.json",
	} {
		if got := ConnectStateFile(g, id); got != filepath.Join("/state", want) {
			t.Errorf("ConnectStateFile(%q) = %q", id, got)
		}
	}
}
