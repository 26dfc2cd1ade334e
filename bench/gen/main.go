// Command gen writes the inputs of the performance scripts (bench/*.sh): N distinct DID_RENEW
// bodies, one per line, signed by a freshly minted Apple-shaped chain, and that chain's root in
// PEM form for --root. It is a measurement tool, not part of s2s.
//
//	go run ./bench/gen -n 3000 -out notifications.ndjson -root root.pem
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/s2s-dev/s2s/internal/benchgen"
)

func main() {
	n := flag.Int("n", 3000, "number of distinct notifications")
	out := flag.String("out", "notifications.ndjson", "NDJSON file to write")
	root := flag.String("root", "root.pem", "PEM file to write the chain's root to")
	flag.Parse()
	if err := run(*n, *out, *root); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(n int, out, root string) error {
	c, err := benchgen.AppleShapedChain()
	if err != nil {
		return err
	}
	bodies, err := benchgen.DIDRenews(c, n)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := benchgen.WriteNDJSON(w, bodies); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.WriteFile(root, c.RootPEM(), 0o644)
}
