package cmd

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/relay"
)

// loadRoots reads --root PEM files; a file that cannot be used is a usage error.
func loadRoots(files []string) ([]*x509.Certificate, error) {
	var roots []*x509.Certificate
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, usageErrorf("reading --root: %w", err)
		}
		certs, err := decode.ParseRootsPEM(data)
		if err != nil {
			return nil, usageErrorf("--root %s: %w", name, err)
		}
		roots = append(roots, certs...)
	}
	return roots, nil
}

// localTestRoots is this machine's s2s test root when one exists, so that what send-test and
// listen signed here decodes as simulated everywhere. It only loads: minting the chain is left to
// the commands that sign.
func localTestRoots(f *Factory) []*x509.Certificate {
	chain, err := fixtures.LoadChain(paths.ConfigDir(f.Getenv))
	if err != nil || chain.Root() == nil {
		return nil
	}
	return []*x509.Certificate{chain.Root()}
}

// caFlagUsage is the --ca flag's usage, the same for every command that makes HTTPS requests to the
// developer's own server.
const caFlagUsage = "trust the certificate authorities in this PEM `FILE` too, for a local HTTPS server with a development CA (default $" + relay.EnvCAFile + ")"

// addCAFlag registers --ca on fs.
func addCAFlag(fs *pflag.FlagSet, into *string) { fs.StringVar(into, "ca", "", caFlagUsage) }

// caFile is the --ca file to use: the flag, else $S2S_CA_FILE, else none ("").
func caFile(f *Factory, flag string) string {
	if flag != "" {
		return flag
	}
	return f.Getenv(relay.EnvCAFile)
}

// maxCAFile bounds a CA file: a whole system bundle is a few hundred KiB.
const maxCAFile = 4 << 20

// readCAFile reads the certificates of the CA file given to flag (--ca, --hub-ca, ...).
func readCAFile(flag, path string) ([]*x509.Certificate, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxCAFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if len(data) > maxCAFile {
		return nil, fmt.Errorf("%s %s is larger than %d MiB: not a CA file", flag, path, maxCAFile>>20)
	}
	certs, err := decode.ParseRootsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return certs, nil
}

// caPool is the system's authorities plus those of the CA file given to flag.
func caPool(flag, path string) (*x509.CertPool, error) {
	certs, err := readCAFile(flag, path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// trustedCAs is the pool an HTTPS request to the developer's server trusts: the system's
// authorities plus those of the --ca file (or $S2S_CA_FILE); nil when there is no such file, so
// the default client is used unchanged.
func trustedCAs(f *Factory, flag string) (*x509.CertPool, error) {
	path := caFile(f, flag)
	if path == "" {
		return nil, nil
	}
	return caPool("--ca", path)
}
