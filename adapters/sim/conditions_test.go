package sim

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cfg, err := Parse("lag=50ms, jitter=10ms,loss=5%,burst=3,dup=0.01,reorder=2%,reorderdelay=4ms,rate=64KB/s,queue=8KiB,mtu=1200,down.loss=20%,seed=7")
	if err != nil {
		t.Fatal(err)
	}
	up := Conditions{Lag: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.05, Burst: 3, Duplicate: 0.01,
		Reorder: 0.02, ReorderDelay: 4 * time.Millisecond, Rate: 64_000, Queue: 8192, MTU: 1200}
	down := up
	down.Loss = 0.2
	if want := (Config{Up: up, Down: down, Seed: 7}); cfg != want {
		t.Fatalf("Parse:\n got %+v\nwant %+v", cfg, want)
	}
	// String reads back.
	for _, spec := range []string{cfg.String(), "lag=75ms,loss=5%", "up.rate=2Mbit/s", "loss=0.1%", "off", ""} {
		c, err := Parse(spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", spec, err)
		}
		back, err := Parse(c.String())
		if err != nil || back != c {
			t.Errorf("Parse(%q).String() = %q reads back as %+v, %v; want %+v", spec, c.String(), back, err, c)
		}
	}
	if s := Both(Conditions{Lag: 75 * time.Millisecond, Loss: 0.05}).String(); s != "lag=75ms,loss=5%" {
		t.Errorf("String() = %q", s)
	}
	if r, _ := Parse("rate=2Mbit/s"); r.Up.Rate != 250_000 {
		t.Errorf("2Mbit/s is %d B/s", r.Up.Rate)
	}
}

func TestParseErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"loss=120%":      "fraction from 0 to 1",
		"lag=-1ms":       "must not be negative",
		"lag=fast":       "duration",
		"ping=3ms":       "unknown key",
		"side.loss=1%":   "up or down",
		"loss":           "key=value",
		"rate=fast":      "bytes per second",
		"mtu=1200kbit":   "size in bytes",
		"seed=x":         "seed",
		"burst=-2":       "mean number of packets",
		"dup=5%,loss=1.": "",
	} {
		_, err := Parse(spec)
		switch {
		case want == "" && err != nil:
			t.Errorf("Parse(%q): %v", spec, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("Parse(%q) = %v, want an error saying %q", spec, err, want)
		}
	}
}
