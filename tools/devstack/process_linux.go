package devstack

import "syscall"

// childSysProcAttr puts the child in its own process group and kills it if devstack dies
// without stopping it (kill -9, a crash), so no orphan keeps the stack's ports.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
