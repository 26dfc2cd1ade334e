// Command s2s is the developer's workbench for Apple's App Store Server Notifications.
package main

import (
	"os"

	"github.com/s2s-dev/s2s/cmd"
)

func main() {
	os.Exit(cmd.Main())
}
