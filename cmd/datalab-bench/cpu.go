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
	if ru, ok := selfUsage(); ok {
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

// newMemoryCost writes a byte in each page of 64 MB of memory just mapped,
// and returns the time that took and the page faults it made: what memory
// new to a process costs on this machine. An ingest pays it for every batch
// and for every block DuckDB builds; a bare COPY into io.Discard hardly at
// all, which is why ratio_vs_copy differs more than the other ratios from
// one machine to another.
func newMemoryCost() (time.Duration, int64, error) {
	const size = 64 << 20
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return 0, 0, err
	}
	defer syscall.Munmap(b)
	page := os.Getpagesize()
	faults := minorFaults()
	start := time.Now()
	for i := 0; i < size; i += page {
		b[i] = 1
	}
	return time.Since(start), minorFaults() - faults, nil
}

// minorFaults returns the page faults of this process that read no file.
func minorFaults() int64 {
	ru, _ := selfUsage()
	return ru.Minflt
}

// selfUsage returns this process's resource usage; false when the system
// does not tell.
func selfUsage() (syscall.Rusage, bool) {
	var ru syscall.Rusage
	err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru, err == nil
}
