package hub

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Seed files of a hub with NKeys, kept beside its store: SeedFileName is the listeners' key that
// --nats-auth nkey makes for teammates to share (it may consume only); OwnSeedFileName is the
// hub's own key (every right), for the hub and hub status, never shared.
const (
	SeedFileName    = "hub-nkey.seed"
	OwnSeedFileName = "hub-own-nkey.seed"
)

// maxSecurityFile bounds what reading a seed, certificate or key file can take: they are a few
// KiB, and a wrong path (a log, a device) must not fill memory.
const maxSecurityFile = 64 << 10

// readSmallFile reads a regular file of at most maxSecurityFile bytes. Its errors name the file,
// never its content. With private set, a file others can read is refused (where permissions mean
// that: not on Windows), as ssh refuses an unprotected private key.
func readSmallFile(path, what string, private bool) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s is not a regular file", what, path)
	}
	if private && runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s %s can be read by other users (mode %04o): it is a secret, protect it with chmod 600 %s", what, path, info.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecurityFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(data) > maxSecurityFile {
		return nil, fmt.Errorf("%s %s is larger than %d KiB: not a %s", what, path, maxSecurityFile>>10, what)
	}
	return data, nil
}

// ReadUserSeed reads a user NKey seed file: one seed ("SU" and 56 more characters), alone but for
// surrounding white space, in a file only its owner can read.
func ReadUserSeed(path string) (nkeys.KeyPair, error) {
	data, err := readSmallFile(path, "NKey seed file", true)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	return parseUserSeed(path, data)
}

// parseUserSeed is ReadUserSeed's parser. Its errors never quote the file, which is a secret.
func parseUserSeed(path string, data []byte) (nkeys.KeyPair, error) {
	seed := bytes.TrimSpace(data)
	if len(seed) == 0 {
		return nil, fmt.Errorf("NKey seed file %s is empty", path)
	}
	if !bytes.HasPrefix(seed, []byte("SU")) || bytes.ContainsFunc(seed, unicode.IsSpace) {
		return nil, fmt.Errorf("NKey seed file %s does not hold a user NKey seed alone (one line starting with SU)", path)
	}
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("NKey seed file %s does not hold a valid user NKey seed (damaged or truncated)", path)
	}
	if pub, err := kp.PublicKey(); err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return nil, fmt.Errorf("NKey seed file %s does not hold a user NKey seed", path)
	}
	return kp, nil
}

// LoadOrCreateUserSeed reads the user NKey seed at path or, when there is none, writes a new one
// there, readable by its owner only.
func LoadOrCreateUserSeed(path string) (kp nkeys.KeyPair, created bool, err error) {
	kp, err = ReadUserSeed(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return kp, false, err
	}
	if err := WriteUserSeed(path); err != nil {
		if errors.Is(err, fs.ErrExist) { // another start won the race: use its key
			kp, err = ReadUserSeed(path)
			return kp, false, err
		}
		return nil, false, err
	}
	kp, err = ReadUserSeed(path)
	return kp, err == nil, err
}

// WriteUserSeed creates path (it must not exist) with a new user NKey seed, readable by its owner
// only. Missing parent directories are made, private (0700), so a first run can write to
// ~/.config/s2s/ before anything else has made it.
func WriteUserSeed(path string) error {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return err
	}
	defer kp.Wipe()
	seed, err := kp.Seed()
	if err != nil {
		return err
	}
	defer clear(seed)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("NKey seed file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("NKey seed file: %w", err)
	}
	_, err = f.Write(append(seed, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("NKey seed file %s: %w", path, err)
	}
	return nil
}

// PublicKey is kp's public key (not a secret: it is what a hub is told to trust).
func PublicKey(kp nkeys.KeyPair) string {
	pub, _ := kp.PublicKey()
	return pub
}

// ListenerKey is a teammate's public user NKey and, when set, the one durable consumer it may use
// (--nats-auth nkey:NAME=PUBKEY): its holder cannot read, acknowledge or reconfigure anyone
// else's. A key with no Consumer (a key shared by the team, or nkey:PUBKEY) may use any consumer,
// as a shared token can.
type ListenerKey struct {
	NKey     string
	Consumer string
}

// ParseUserKeys parses a comma-separated list of public user NKeys (each "U" and 55 more
// characters), each alone or bound to a consumer name as NAME=PUBKEY, as --nats-auth nkey:…
// gives them. Its errors never quote a key: one may be a seed pasted by mistake.
func ParseUserKeys(list string) ([]ListenerKey, error) {
	var keys []ListenerKey
	seen := map[string]string{} // key: its consumer
	for i, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		name, k, bound := strings.Cut(entry, "=")
		if !bound {
			name, k = "", entry
		}
		name, k = strings.TrimSpace(name), strings.TrimSpace(k)
		switch {
		case entry == "":
			return nil, fmt.Errorf("public NKey %d is empty", i+1)
		case bound && !ValidName(name):
			return nil, fmt.Errorf("entry %d: the consumer name before = must be what that teammate passes to s2s listen --name (letters, digits, - and _, up to 64)", i+1)
		case k == "":
			return nil, fmt.Errorf("public NKey %d is empty", i+1)
		case strings.HasPrefix(k, "S"):
			return nil, fmt.Errorf("entry %d is a seed, a secret: give its public key (U…), which s2s hub nkey prints, and keep the seed private", i+1)
		case !nkeys.IsValidPublicUserKey(k):
			return nil, fmt.Errorf("entry %d is not a public user NKey (U followed by 55 characters)", i+1)
		}
		if prev, ok := seen[k]; ok {
			if prev != name {
				return nil, fmt.Errorf("entry %d gives again a key given before, for another consumer: one key is one teammate (s2s hub nkey makes one each)", i+1)
			}
			continue
		}
		seen[k] = name
		keys = append(keys, ListenerKey{NKey: k, Consumer: name})
	}
	return keys, nil
}

// LooksLikeNKey reports whether s has the form of an NKey, seed (S…, 58 characters) or public key
// (56): given where a token is expected, it is a key misplaced, and a seed is a secret.
func LooksLikeNKey(s string) bool {
	if len(s) != 56 && len(s) != 58 {
		return false
	}
	if len(s) == 58 && s[0] != 'S' {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

// NKeyAuth is the client option that authenticates with the user NKey kp: the server sends a
// nonce, the client signs it, the seed never leaves this process.
func NKeyAuth(kp nkeys.KeyPair) nats.Option {
	return nats.Nkey(PublicKey(kp), kp.Sign)
}

// Credentials are what a client presents beyond its URL: a user NKey, and the authorities it
// trusts for TLS.
type Credentials struct {
	NKey    nkeys.KeyPair  // nil: the URL's token, if any
	RootCAs *x509.CertPool // nil: the system's, for a tls:// URL
}

// Options are c as options for Connect.
func (c Credentials) Options() []nats.Option {
	var opts []nats.Option
	if c.NKey != nil {
		opts = append(opts, NKeyAuth(c.NKey), nats.CustomInboxPrefix(InboxPrefix(PublicKey(c.NKey))))
	}
	if c.RootCAs != nil {
		opts = append(opts, TrustCAs(c.RootCAs))
	}
	return opts
}

// InboxPrefix is where a client with the user NKey pub receives the answers to its requests: a
// teammate's key may subscribe there only (listenerPermissions), so it never sees the answers
// other clients get (the hub's, or other teammates'). Holders of one shared key share it. It stays
// under _INBOX., which a NATS server configured for clients' default inboxes allows.
func InboxPrefix(pub string) string { return "_INBOX." + pub }
