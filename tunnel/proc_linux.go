package tunnel

import (
	"os/exec"
	"syscall"
)

// setChildAttrs makes the kernel stop the child if s2s dies without cleaning up.
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
