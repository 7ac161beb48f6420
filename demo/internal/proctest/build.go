package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// race is set when the tests run with -race; Build then builds the
// programs with -race too.
var race bool

// Programs builds one demo's programs, each once per test run, into a
// directory that Run makes and removes. Set Pkg; the rest is ready at its
// zero value. Its methods may be called from any goroutine.
type Programs struct {
	// Pkg is the demo's import path. A program's name is a directory
	// under it, or the last element of Pkg itself for the launcher.
	Pkg string

	dir    string
	builds sync.Map // name, with "-race" when built so → *build
}

type build struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

// Run makes the directory, runs the tests and removes the directory. It
// returns m.Run's exit status: TestMain calls os.Exit(programs.Run(m)).
func (p *Programs) Run(m *testing.M) int {
	dir, err := os.MkdirTemp("", path.Base(p.Pkg)+"-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	p.dir = dir
	defer os.RemoveAll(dir)
	return m.Run()
}

// Build builds the program called name once and returns its path. It is
// built with -race when the tests are.
func (p *Programs) Build(t *testing.T, name string) string {
	t.Helper()
	return p.build(t, name, race)
}

// BuildNoRace is Build without -race, as the launchers build the
// programs: building it first puts the program in the build cache, which
// the launcher's own build then finds.
func (p *Programs) BuildNoRace(t *testing.T, name string) string {
	t.Helper()
	return p.build(t, name, false)
}

func (p *Programs) build(t *testing.T, name string, race bool) string {
	t.Helper()
	key := name
	if race {
		key += "-race"
	}
	v, _ := p.builds.LoadOrStore(key, new(build))
	b := v.(*build)
	b.once.Do(func() {
		pkg := p.Pkg + "/" + name
		if name == path.Base(p.Pkg) {
			pkg = p.Pkg
		}
		b.path = filepath.Join(p.dir, key)
		args := []string{"build", "-o", b.path}
		if race {
			args = append(args, "-race")
		}
		// "go" from PATH: go test puts its own GOROOT/bin first there, so
		// this is the toolchain running the test.
		b.out, b.err = exec.Command("go", append(args, pkg)...).CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build %s: %v\n%s", name, b.err, b.out)
	}
	return b.path
}
