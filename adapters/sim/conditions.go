package sim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Conditions impair one direction of a path. The zero value impairs
// nothing. Which conditions apply to which adapter is in the package doc:
// a byte stream (TCP) is delayed and rate-limited but never loses,
// duplicates or reorders bytes.
type Conditions struct {
	// Lag delays every packet by this much, one way: a Lag of 50 ms in
	// both directions makes a 100 ms round trip.
	Lag time.Duration
	// Jitter adds to Lag a delay drawn uniformly from -Jitter to +Jitter
	// (never below zero in all). Like a real queue, jitter never reorders:
	// a packet is not released before the one sent ahead of it. Use
	// Reorder for that.
	Jitter time.Duration
	// Loss is the fraction of packets dropped, 0 to 1.
	Loss float64
	// Burst is the mean length, in packets, of a run of losses: above 1,
	// losses come in bursts (a two-state Gilbert model whose long-run
	// loss is Loss); 0 or 1 drops each packet independently.
	Burst float64
	// Duplicate is the fraction of delivered packets sent twice.
	Duplicate float64
	// Reorder is the fraction of packets held back ReorderDelay longer
	// than the others, so that packets sent during that time overtake
	// them.
	Reorder float64
	// ReorderDelay is how long a reordered packet is held back. Default
	// 10 ms.
	ReorderDelay time.Duration
	// Rate limits the path to this many bytes per second (payload bytes:
	// UDP datagrams, or the TCP stream), 0 for no limit. Bytes wait in a
	// queue for their turn.
	Rate int64
	// Queue is how many bytes may wait for Rate: datagrams beyond it are
	// dropped (a router's tail drop); a stream stops being read until
	// there is room. Default: 200 ms at Rate, at least 3,000 bytes.
	Queue int
	// MTU drops datagrams larger than this many bytes, 0 for no limit.
	MTU int
}

// Config is the conditions of both directions of a path, and the seed of
// its random draws. Up is from the client (the dialing side) to the
// server; Down from the server to the client.
type Config struct {
	Up, Down Conditions
	// Seed seeds the random draws. Sessions get their own streams derived
	// from it in the order they start, so a run with the same Seed and the
	// same traffic draws the same fates. 0 picks a random seed; Sim.String
	// and Sim.Config report it, so that a failing run can be replayed.
	Seed uint64
}

// Both returns a Config with c in both directions.
func Both(c Conditions) Config { return Config{Up: c, Down: c} }

const defaultReorderDelay = 10 * time.Millisecond

// datagramOnly reports whether c sets a condition that only datagrams are
// subject to.
func (c *Conditions) datagramOnly() bool {
	return c.Loss != 0 || c.Duplicate != 0 || c.Reorder != 0 || c.MTU != 0
}

func (c *Conditions) reorderDelay() time.Duration {
	if c.ReorderDelay > 0 {
		return c.ReorderDelay
	}
	return defaultReorderDelay
}

func (c *Conditions) queue() int {
	if c.Queue > 0 {
		return c.Queue
	}
	return max(int(c.Rate/5), 3000)
}

func (c *Conditions) validate() error {
	frac := func(name string, f float64) error {
		if !(f >= 0 && f <= 1) {
			return fmt.Errorf("sim: %s is %v; it is a fraction from 0 to 1 (5%% is 0.05)", name, f)
		}
		return nil
	}
	if err := errors.Join(frac("Loss", c.Loss), frac("Duplicate", c.Duplicate), frac("Reorder", c.Reorder)); err != nil {
		return err
	}
	switch {
	case c.Lag < 0 || c.Jitter < 0 || c.ReorderDelay < 0:
		return errors.New("sim: Lag, Jitter and ReorderDelay must not be negative")
	case !(c.Burst >= 0) || math.IsInf(c.Burst, 1):
		return fmt.Errorf("sim: Burst is %v; it is a mean number of packets, 0 or more", c.Burst)
	case c.Rate < 0 || c.Queue < 0 || c.MTU < 0:
		return errors.New("sim: Rate, Queue and MTU must not be negative")
	}
	return nil
}

// Parse reads a Config from a spec such as "lag=50ms,jitter=10ms,loss=5%":
// comma-separated key=value settings that apply to both directions, or to
// one when the key starts with "up." or "down." ("down.loss=20%"). Keys:
//
//	lag, jitter, reorderdelay   durations: 50ms, 1.5s
//	loss, dup, reorder          fractions: 5% or 0.05
//	burst                       mean loss burst, in packets: 4
//	rate                        bytes per second: 64KB/s, 1MB/s, 2Mbit/s, 8000
//	queue, mtu                  bytes: 64KB, 1200
//	seed                        a number
//
// KB and MB are 1,000 and 1,000,000 bytes; KiB and MiB 1,024 and 1,048,576.
// An empty spec, or "off", is no impairment. Config.String writes a spec
// that Parse reads back.
func Parse(spec string) (Config, error) {
	var cfg Config
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "off" {
		return cfg, nil
	}
	for item := range strings.SplitSeq(spec, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		if !ok || val == "" {
			return Config{}, fmt.Errorf("sim: %q in %q is not key=value", item, spec)
		}
		if key == "seed" {
			s, err := strconv.ParseUint(val, 10, 64)
			if err != nil {
				return Config{}, fmt.Errorf("sim: seed %q is not a number", val)
			}
			cfg.Seed = s
			continue
		}
		dirs := []*Conditions{&cfg.Up, &cfg.Down}
		if d, k, ok := strings.Cut(key, "."); ok {
			switch d {
			case "up":
				dirs = dirs[:1]
			case "down":
				dirs = dirs[1:]
			default:
				return Config{}, fmt.Errorf("sim: %q: a direction is up or down", key)
			}
			key = k
		}
		for _, c := range dirs {
			if err := c.set(key, val); err != nil {
				return Config{}, err
			}
		}
	}
	for _, c := range []*Conditions{&cfg.Up, &cfg.Down} {
		if err := c.validate(); err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

func (c *Conditions) set(key, val string) error {
	var err error
	switch key {
	case "lag":
		c.Lag, err = parseDuration(val)
	case "jitter":
		c.Jitter, err = parseDuration(val)
	case "reorderdelay":
		c.ReorderDelay, err = parseDuration(val)
	case "loss":
		c.Loss, err = parseFraction(val)
	case "dup":
		c.Duplicate, err = parseFraction(val)
	case "reorder":
		c.Reorder, err = parseFraction(val)
	case "burst":
		c.Burst, err = strconv.ParseFloat(val, 64)
	case "rate":
		c.Rate, err = parseBytes(val, true)
	case "queue":
		var n int64
		n, err = parseBytes(val, false)
		c.Queue = int(n)
	case "mtu":
		var n int64
		n, err = parseBytes(val, false)
		c.MTU = int(n)
	default:
		return fmt.Errorf("sim: unknown key %q; keys are lag, jitter, loss, burst, dup, reorder, reorderdelay, rate, queue, mtu, seed", key)
	}
	if err != nil {
		return fmt.Errorf("sim: %s=%s: %w", key, val, err)
	}
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want a duration such as 50ms")
	}
	return d, nil
}

func parseFraction(s string) (float64, error) {
	div := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, div = t, 100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("want a fraction such as 5% or 0.05")
	}
	return f / div, nil
}

// units are the suffixes of a size or rate, longest first so that "KiB"
// is not read as "B".
var units = []struct {
	suffix string
	bytes  float64
}{
	{"mbit", 1e6 / 8}, {"kbit", 1e3 / 8}, {"bit", 1.0 / 8},
	{"mib", 1 << 20}, {"kib", 1 << 10},
	{"mb", 1e6}, {"kb", 1e3}, {"b", 1},
}

func parseBytes(s string, rate bool) (int64, error) {
	t := strings.ToLower(s)
	if rate {
		t = strings.TrimSuffix(t, "/s")
	}
	mult := 1.0
	for _, u := range units {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			if !rate && strings.HasSuffix(u.suffix, "bit") {
				break
			}
			t, mult = v, u.bytes
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f*mult > math.MaxInt32*1024.0 {
		if rate {
			return 0, errors.New("want bytes per second such as 64KB/s or 2Mbit/s")
		}
		return 0, errors.New("want a size in bytes such as 1200 or 64KB")
	}
	return int64(math.Round(f * mult)), nil
}

// String returns c as a spec that Parse reads back: its settings for both
// directions when they are the same, else "up." and "down." ones.
func (c Config) String() string {
	var parts []string
	if c.Up == c.Down {
		parts = c.Up.appendSpec(parts, "")
	} else {
		parts = c.Up.appendSpec(parts, "up.")
		parts = c.Down.appendSpec(parts, "down.")
	}
	if c.Seed != 0 {
		parts = append(parts, "seed="+strconv.FormatUint(c.Seed, 10))
	}
	if len(parts) == 0 {
		return "off"
	}
	return strings.Join(parts, ",")
}

func (c *Conditions) appendSpec(parts []string, prefix string) []string {
	add := func(key string, set bool, val string) {
		if set {
			parts = append(parts, prefix+key+"="+val)
		}
	}
	pct := func(f float64) string {
		// A percentage when it reads back exactly, else the fraction.
		if s := strconv.FormatFloat(f*100, 'g', -1, 64) + "%"; back(s) == f {
			return s
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	add("lag", c.Lag != 0, c.Lag.String())
	add("jitter", c.Jitter != 0, c.Jitter.String())
	add("loss", c.Loss != 0, pct(c.Loss))
	add("burst", c.Burst != 0, strconv.FormatFloat(c.Burst, 'g', -1, 64))
	add("dup", c.Duplicate != 0, pct(c.Duplicate))
	add("reorder", c.Reorder != 0, pct(c.Reorder))
	add("reorderdelay", c.ReorderDelay != 0, c.ReorderDelay.String())
	add("rate", c.Rate != 0, strconv.FormatInt(c.Rate, 10)+"B/s")
	add("queue", c.Queue != 0, strconv.Itoa(c.Queue)+"B")
	add("mtu", c.MTU != 0, strconv.Itoa(c.MTU))
	return parts
}

// back is what parseFraction reads from s, NaN when it reads nothing.
func back(s string) float64 {
	f, err := parseFraction(s)
	if err != nil {
		return math.NaN()
	}
	return f
}
