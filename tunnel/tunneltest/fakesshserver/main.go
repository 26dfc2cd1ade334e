// Command fakesshserver runs the loopback SSH tunnel server of the tests, for trying
// `s2s listen --tunnel=ssh=127.0.0.1:PORT` offline. It prints its address, then one line per
// forward; the URL it announces is the plain-HTTP public side on 127.0.0.1.
package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/s2s-dev/s2s/tunnel/tunneltest"
)

func main() {
	srv, err := tunneltest.NewSSHServer(tunneltest.SSHOptions{
		URL: func(_ int, public string) string { return "http://" + public },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer srv.Close()
	fmt.Println(srv.Addr())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	for {
		select {
		case public := <-srv.Forwards():
			fmt.Println("forward:", public)
		case <-stop:
			return
		}
	}
}
