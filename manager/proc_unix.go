//go:build unix

package manager

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the child in a process group of its own, so that a
// signal to the group also reaches the processes the child starts, and a
// Ctrl-C on the terminal reaches the manager only, which forwards it.
func setProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(cmd.SysProcAttr)
}

// signalGroup sends sig to the child's process group. Errors are ignored:
// the group is gone when the child has exited.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, sig)
}
