package cmd

import (
	"crypto/x509"
	"os"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/paths"
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
