//go:build unix && !linux

package devstack

import "syscall"

// childSysProcAttr puts the child in its own process group (Pdeathsig is Linux-only).
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
