package headless

import (
	"os/exec"
	"strings"
	"testing"
)

func TestFindHonoursEnv(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to stand in for a browser")
	}
	t.Setenv(EnvBrowser, "sh")
	if got, err := Find(); err != nil || got != sh {
		t.Errorf("Find() = %q, %v with %s=sh, want %q", got, err, EnvBrowser, sh)
	}
	t.Setenv(EnvBrowser, "/nonexistent/chromium")
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), EnvBrowser) {
		t.Errorf("Find() with a missing %s: %v, want an error naming it", EnvBrowser, err)
	}
}

func TestFindWithoutBrowser(t *testing.T) {
	t.Setenv(EnvBrowser, "")
	t.Setenv("PATH", t.TempDir())
	if _, err := Find(); err != ErrNoBrowser {
		t.Errorf("Find() with an empty PATH: %v, want ErrNoBrowser", err)
	}
}
