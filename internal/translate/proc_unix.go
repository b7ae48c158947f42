//go:build unix

package translate

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts apertium (a shell script running a pipeline) in its own
// process group so that killing it also ends the pipeline stages.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
