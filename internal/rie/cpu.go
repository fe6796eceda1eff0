package rie

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux this runs on (glibc's sysconf(_SC_CLK_TCK) answers it
// from the kernel's fixed value).
const clockTicks = 100

// BootstrapCPU is the CPU time (user and system) the bootstrap process has
// used so far. Under a loaded machine wall time measures the neighbours;
// CPU time measures the function, and is what Lambda's share of a vCPU
// stretches into wall time. It must be called while the process lives.
func (in *Instance) BootstrapCPU() (time.Duration, error) {
	pid, err := childPID(in.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	return processCPU(pid)
}

func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after its
	// closing parenthesis are fixed: state is field 3, utime 14, stime 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat: %q", b)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing /proc stat %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
