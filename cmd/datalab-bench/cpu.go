package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuMark is where the CPU clocks stood at one moment: this process's, and
// the whole machine's busy time (every process, the PostgreSQL server's
// included).
type cpuMark struct {
	own, machine time.Duration
	ok           bool // the machine's time could be read (Linux)
}

func markCPU() cpuMark {
	var m cpuMark
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m.own = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	m.machine, m.ok = machineBusy()
	return m
}

// cpuSince returns the CPU time this process and the rest of the machine
// spent since m: others is zero when the machine's time cannot be read.
func cpuSince(m cpuMark) (own, others time.Duration) {
	now := markCPU()
	own = now.own - m.own
	if m.ok && now.ok {
		others = max(0, now.machine-m.machine-own)
	}
	return own, others
}

// machineBusy reads the time every CPU spent working (user, nice, system,
// irq, softirq; not idle, iowait or steal) from /proc/stat.
func machineBusy() (time.Duration, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	// USER_HZ is 100 on every Linux architecture Go supports.
	return time.Duration(ticks) * 10 * time.Millisecond, true
}
