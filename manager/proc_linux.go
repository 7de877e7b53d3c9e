package manager

import "syscall"

// setParentDeathSignal sets the signal Linux sends the child when the
// manager dies, for example on SIGKILL: SIGTERM, so the child checkpoints
// and exits instead of training on unobserved.
// NOTE: Linux sends it when the manager's thread that started the child
// exits. The Go runtime keeps its threads, so in practice that is when the
// manager dies.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGTERM
}
