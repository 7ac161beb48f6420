//go:build unix

package launch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// windowPackages are the Debian packages a window client needs to build
// and run: a C compiler, and the X11 and OpenGL headers GLFW compiles
// against (Ebiten's Linux requirements, without ALSA: the demos make no
// sound).
var windowPackages = []string{
	"gcc", "libc6-dev", "pkg-config", "libgl1-mesa-dev", "libxcursor-dev", "libxi-dev",
	"libxinerama-dev", "libxrandr-dev", "libxxf86vm-dev",
}

// enetPackages are what -transport enet needs (cgo and libenet).
var enetPackages = []string{"gcc", "libc6-dev", "libenet-dev"}

// enetTags returns the build tags for the transport: ENet is left out when
// the transport is TCP and libenet is not installed; with -transport enet
// it is required (and installed when the launcher may).
func (d *Demo) enetTags(transport string) ([]string, error) {
	if haveENet() {
		return nil, nil
	}
	if transport != "enet" {
		d.Say("building without ENet (libenet-dev is not installed; -transport tcp does not need it)")
		return []string{"-tags", "noenet"}, nil
	}
	if err := d.aptInstall(enetPackages); err != nil {
		return nil, fmt.Errorf("-transport enet needs cgo and libenet: %v", err)
	}
	return nil, nil
}

func haveENet() bool {
	for _, d := range []string{"/usr/include", "/usr/local/include"} {
		if _, err := os.Stat(filepath.Join(d, "enet", "enet.h")); err == nil {
			return true
		}
	}
	return false
}

// Build builds the demo's programs called names (directories under Pkg)
// into the directory, and returns go build's output.
func (d *Demo) Build(names ...string) ([]byte, error) {
	args := append([]string{"build", "-o", d.dir + string(filepath.Separator)}, d.tags...)
	for _, n := range names {
		args = append(args, d.Pkg+"/"+n)
	}
	d.built = append(d.built, names...)
	return exec.Command("go", args...).CombinedOutput()
}

// BuildWindow builds the program "window" and returns its path, or why
// there is no window client: the -client flag is neither auto nor window,
// there is no display, its packages are missing, or it does not build.
func (d *Demo) BuildWindow(client string) (path, why string) {
	if client != "auto" && client != "window" {
		return "", "-client " + client
	}
	if Display() == "" && client == "auto" {
		return "", "no display ($DISPLAY and $WAYLAND_DISPLAY are empty)"
	}
	if missing := missingPackages(windowPackages); len(missing) > 0 {
		if err := d.aptInstall(missing); err != nil {
			return "", fmt.Sprintf("the window client needs %s (%v)", strings.Join(missing, " "), err)
		}
	}
	d.Say("building the window client (the first build takes a minute or two)…")
	if out, err := d.Build("window"); err != nil {
		return "", "the window client does not build here:\n" + lastLines(out, 5) + "\n"
	}
	return d.Path("window"), ""
}

// Display is the display a window would open on, "DISPLAY=:0", or "".
func Display() string {
	if d := os.Getenv("DISPLAY"); d != "" {
		return "DISPLAY=" + d
	}
	if d := os.Getenv("WAYLAND_DISPLAY"); d != "" {
		return "WAYLAND_DISPLAY=" + d
	}
	return ""
}

// missingPackages lists the Debian packages of pkgs that are not
// installed; none on systems without dpkg, where the build decides.
func missingPackages(pkgs []string) []string {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		return nil
	}
	var missing []string
	for _, p := range pkgs {
		out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", p).Output()
		if err != nil || !strings.Contains(string(out), "install ok installed") {
			missing = append(missing, p)
		}
	}
	return missing
}

// aptInstall installs Debian packages when the launcher runs as root.
func (d *Demo) aptInstall(pkgs []string) error {
	if len(pkgs) == 0 {
		return nil
	}
	cmdline := "apt-get install " + strings.Join(pkgs, " ")
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("install %s with your package manager", strings.Join(pkgs, " "))
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root, so not installing them: run sudo %s", cmdline)
	}
	d.Say("installing %s…", strings.Join(pkgs, " "))
	for _, args := range [][]string{{"update"}, append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s failed: %v", cmdline, err)
		}
	}
	return nil
}

// lastLines is the last n lines of b, indented.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}
