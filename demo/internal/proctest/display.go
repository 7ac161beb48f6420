package proctest

import (
	"image"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// XvfbRun returns xvfb-run's path, to run a window client under, or skips
// the test when it is not installed.
func XvfbRun(t *testing.T) string {
	t.Helper()
	xvfb, err := exec.LookPath("xvfb-run")
	if err != nil {
		t.Skip("xvfb-run is not on PATH: install xvfb (apt-get install xvfb xauth) to test the window client")
	}
	return xvfb
}

// LauncherEnv is this process's environment for a launcher: TMPDIR a test
// directory, where the launcher keeps its logs, and no display unless
// display.
func LauncherEnv(t *testing.T, display bool) []string {
	env := []string{"TMPDIR=" + t.TempDir()}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TMPDIR=") {
			continue
		}
		if !display && (strings.HasPrefix(kv, "DISPLAY=") || strings.HasPrefix(kv, "WAYLAND_DISPLAY=")) {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Screenshot decodes the PNG a window client wrote and checks that it is
// w×h pixels; what it must show is the demo's to check.
func Screenshot(t *testing.T, name string, w, h int) image.Image {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	return img
}
