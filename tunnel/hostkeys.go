package tunnel

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KnownHostsFile is where SSH tunnel host keys are pinned, inside the config directory.
const KnownHostsFile = "known_hosts"

// ClientKeyFile is the SSH client key s2s offers to services that want one.
const ClientKeyFile = "tunnel_ed25519"

// errHostKeyChanged marks a host key that differs from the pinned one.
var errHostKeyChanged = errors.New("host key changed")

// hostKeysMu serialises reads and appends of known_hosts within the process.
var hostKeysMu sync.Mutex

// hostKeys verifies one server's key against the pinned keys, pinning it on first use.
type hostKeys struct {
	path       string
	algorithms []string
	mismatch   error
	callback   ssh.HostKeyCallback
}

func newHostKeys(dir, addr string) (*hostKeys, error) {
	if dir == "" {
		return nil, errors.New("no config directory for known_hosts")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	h := &hostKeys{path: filepath.Join(dir, KnownHostsFile)}
	hostKeysMu.Lock()
	defer hostKeysMu.Unlock()
	f, err := os.OpenFile(h.path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	check, err := knownhosts.New(h.path)
	if err != nil {
		return nil, err
	}
	// Ask only for the algorithms already pinned for this host, so a server with several host keys
	// cannot look like a changed key by offering another one first.
	h.algorithms, err = pinnedAlgorithms(h.path, addr)
	if err != nil {
		return nil, err
	}
	h.callback = func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		var ke *knownhosts.KeyError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) == 0:
			return h.pin(hostname, key)
		case errors.As(err, &ke):
			h.mismatch = &Error{Provider: "ssh", Class: ClassRejected,
				Err: fmt.Errorf("%w: %s now presents %s %s, but %s pins another key (line %d)",
					errHostKeyChanged, hostname, key.Type(), ssh.FingerprintSHA256(key), h.path, ke.Want[0].Line),
				Hint: "someone may be intercepting the connection; if the service really rotated its key, delete that line and try again"}
			return h.mismatch
		default:
			return err
		}
	}
	return h, nil
}

func (h *hostKeys) pin(hostname string, key ssh.PublicKey) error {
	hostKeysMu.Lock()
	defer hostKeysMu.Unlock()
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, werr := fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key))
	if err := f.Close(); werr == nil {
		werr = err
	}
	return werr
}

// pinnedAlgorithms lists the host key algorithms matching the keys pinned for addr.
func pinnedAlgorithms(path, addr string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	want := knownhosts.Normalize(addr)
	var algs []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		_, hosts, key, _, _, err := ssh.ParseKnownHosts(sc.Bytes())
		if err != nil {
			continue
		}
		for _, host := range hosts {
			if host != want {
				continue
			}
			if key.Type() == ssh.KeyAlgoRSA {
				algs = append(algs, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
			} else {
				algs = append(algs, key.Type())
			}
		}
	}
	return algs, nil
}

// loadOrCreateKey returns the persistent client key, generating it on first use.
func loadOrCreateKey(dir string) (ssh.Signer, error) {
	if dir == "" {
		return nil, errors.New("no config directory for the SSH client key")
	}
	path := filepath.Join(dir, ClientKeyFile)
	if data, err := os.ReadFile(path); err == nil {
		s, err := ssh.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "s2s tunnel")
	if err != nil {
		return nil, err
	}
	// O_EXCL: when two listeners start at once, the second reads the first one's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadOrCreateKey(dir)
	}
	if err != nil {
		return nil, err
	}
	werr := pem.Encode(f, block)
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return nil, werr
	}
	return ssh.NewSignerFromKey(priv)
}
