package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// sample is the process at one moment.
type sample struct {
	at         time.Duration // since the phase started
	rssKiB     int64         // VmRSS
	goroutines int
	fds        int
	heapInUse  uint64 // runtime.MemStats.HeapInuse: live objects and garbage not yet swept
	heapLive   uint64 // the heap the last GC marked live (/gc/heap/live:bytes)
	stacks     uint64 // runtime.MemStats.StackInuse: goroutine stacks, outside the heap
	conns      int    // the server's open connections
	players    int    // player goroutines, connecting, playing or leaving
	relays     int64  // chats the server relayed so far
	arrived    int64  // relays that reached a player so far
}

func sampleNow(at time.Duration) sample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	var hl uint64
	if live[0].Value.Kind() == metrics.KindUint64 {
		hl = live[0].Value.Uint64()
	}
	return sample{at: at, rssKiB: rss(), goroutines: runtime.NumGoroutine(), fds: openFDs(), heapInUse: ms.HeapInuse, heapLive: hl, stacks: ms.StackInuse}
}

// rss is the process's resident set in KiB, from /proc/self/status; -1
// where there is none.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// openFDs counts /proc/self/fd, less the descriptor reading it; -1 where
// there is none.
func openFDs() int {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return -1
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names) - 1
}

// settle gives goroutines and descriptors that are on their way out (a
// closed relay's timers, a finalizer) up to 20 s to go back to their
// counts in base, and collects the garbage, then samples.
func settle(s sample, goroutines, fds int) sample {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		runtime.GC()
		if runtime.NumGoroutine() <= goroutines && openFDs() <= fds {
			break
		}
	}
	runtime.GC()
	n := sampleNow(s.at)
	return n
}

const sampleHeader = "    time |   RSS MiB | heap MiB | live MiB | stacks MiB | goroutines |   fds | conns | players |   relays sent | arrived"

func (s sample) row() string {
	return fmt.Sprintf("%8s | %9.1f | %8.1f | %8.1f | %10.1f | %10d | %5d | %5d | %7d | %13d | %d",
		s.at.Round(time.Second), float64(s.rssKiB)/1024, float64(s.heapInUse)/(1<<20), float64(s.heapLive)/(1<<20), float64(s.stacks)/(1<<20), s.goroutines, s.fds, s.conns, s.players, s.relays, s.arrived)
}

func (s sample) csv(phase string) string {
	return fmt.Sprintf("%s,%.0f,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d", phase, s.at.Seconds(), s.rssKiB, s.heapInUse, s.heapLive, s.stacks, s.goroutines, s.fds, s.conns, s.players, s.relays, s.arrived)
}

const csvHeader = "phase,seconds,rss_kib,heap_inuse_bytes,heap_live_bytes,stack_inuse_bytes,goroutines,fds,conns,players,relays_sent,relays_arrived"

// Leak tolerances.
const (
	// perPlayerSlack is how far goroutines and fds per player may drift
	// between warm-up and the end: the mix of players connecting, chatting
	// and waiting for a timeout shifts a little as the run goes on.
	perPlayerSlack = 0.15
	// memSlack is the growth of the RSS and live heap peaks tolerated from
	// the first half after warm-up to the second, relative, plus
	// memSlackMiB absolute: a heap that holds about the same number of
	// players settles, it does not grow.
	memSlack    = 0.25
	memSlackMiB = 32
	// endSlack is how many goroutines and fds above the phase's start
	// are tolerated once everything closed.
	endSlack = 2
)

// leaks compares the samples after warm-up with the last ones, and the
// process after the phase with before it. Goroutines and fds are
// compared per player (what each one holds beyond the base), since the
// number of players moves; RSS and the live heap whole, by their peaks
// (the heap in use swings with the garbage between two collections; the
// live heap is what the last one kept).
func leaks(base, after sample, samples []sample, warm time.Duration) []string {
	var out []string
	if after.goroutines > base.goroutines+endSlack {
		out = append(out, fmt.Sprintf("goroutines: %d before the phase, %d after everything closed", base.goroutines, after.goroutines))
	}
	if after.fds > base.fds+endSlack {
		out = append(out, fmt.Sprintf("fds: %d before the phase, %d after everything closed", base.fds, after.fds))
	}
	// Warm-up: the samples before warm. Three samples averaged at either
	// end.
	w := 0
	for w < len(samples) && samples[w].at < warm {
		w++
	}
	if len(samples)-w < 6 {
		return out
	}
	early, late := mean(samples[w:w+3]), mean(samples[len(samples)-3:])
	per := func(v, b float64, players float64) float64 { return (v - b) / max(players, 1) }
	type metric struct {
		name        string
		early, late float64
	}
	for _, m := range []metric{
		{"goroutines per player", per(early.goroutines, float64(base.goroutines), early.players), per(late.goroutines, float64(base.goroutines), late.players)},
		{"fds per player", per(early.fds, float64(base.fds), early.players), per(late.fds, float64(base.fds), late.players)},
	} {
		if m.late > m.early*(1+perPlayerSlack)+0.5 {
			out = append(out, fmt.Sprintf("%s: %.2f after warm-up, %.2f at the end (tolerance %.0f %%)", m.name, m.early, m.late, 100*perPlayerSlack))
		}
	}
	// Memory: the peak of the first half after warm-up against the peak
	// of the second. RSS follows the heap's peaks (the GC lets the heap
	// grow to twice the live heap before it collects), which a phase
	// reaches only after a few collections: a plateau is no leak, a
	// second half that climbs higher is.
	rest := samples[w:]
	first, second := peaks(rest[:len(rest)/2]), peaks(rest[len(rest)/2:])
	for _, m := range []metric{
		{"RSS MiB", first.rssKiB / 1024, second.rssKiB / 1024},
		{"live heap MiB", first.live / (1 << 20), second.live / (1 << 20)},
	} {
		if m.late > m.early*(1+memSlack)+memSlackMiB {
			out = append(out, fmt.Sprintf("%s: peak %.1f in the first half after warm-up, %.1f in the second (tolerance %.0f %% + %d MiB)", m.name, m.early, m.late, 100*memSlack, memSlackMiB))
		}
	}
	return out
}

func peaks(ss []sample) avg {
	var a avg
	for _, s := range ss {
		a.rssKiB = max(a.rssKiB, float64(s.rssKiB))
		a.live = max(a.live, float64(s.heapLive))
	}
	return a
}

type avg struct{ rssKiB, live, goroutines, fds, players float64 }

func mean(ss []sample) avg {
	var a avg
	for _, s := range ss {
		a.rssKiB += float64(s.rssKiB)
		a.live += float64(s.heapLive)
		a.goroutines += float64(s.goroutines)
		a.fds += float64(s.fds)
		a.players += float64(s.players)
	}
	n := float64(len(ss))
	return avg{a.rssKiB / n, a.live / n, a.goroutines / n, a.fds / n, a.players / n}
}

// udpRcvbufErrors is the kernel's count of UDP datagrams dropped for a
// full socket receive buffer (/proc/net/snmp), machine-wide: -1 where
// there is none.
func udpRcvbufErrors() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return -1
	}
	var names []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, err := strconv.ParseInt(f[i], 10, 64)
				if err != nil {
					return -1
				}
				return v
			}
		}
	}
	return -1
}
