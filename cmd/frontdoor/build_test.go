package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

// The version comes from the build: module version, commit, its date, a dirty tree said so.
func TestVersionOf(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "e6c32b5b12fd398d8a6be74fcead2fcb37aec5c5"}, {Key: "vcs.time", Value: "2026-12-02T06:20:35Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionOf(bi, true), "v1.2.3 (commit e6c32b5b12fd398d8a6be74fcead2fcb37aec5c5, 2026-12-02T06:20:35Z, with uncommitted changes, go1.26.8)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := versionOf(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true); !strings.HasPrefix(got, "devel (no commit recorded") {
		t.Errorf("devel: %s", got)
	}
	if got := versionOf(nil, false); got != "devel (no build information)" {
		t.Errorf("none: %s", got)
	}
}

// A binary built from a git checkout says its commit and date. This checkout's files (as they are
// now, changes included) are committed into a new repository with a known date and built there
// (a git worktree's .git is a file, which go build does not stamp), then asked.
func TestVersionFromBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	root := moduleRoot(t)
	git := func(dir string, args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	src := filepath.Join(t.TempDir(), "src")
	for _, f := range strings.Split(git(root, "ls-files", "-co", "--exclude-standard"), "\n") {
		b, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted, not yet committed
		} else if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(src, f)), 0o755)
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(src, "init", "-q")
	git(src, "add", "-A")
	git(src, "commit", "-q", "-m", "test")
	head := git(src, "rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "frontdoor")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/frontdoor")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^frontdoor v0\.0\.0-20260102030405-` + head[:12] + ` \(commit ` + head + `, 2026-01-02T03:04:05Z, go1\.[0-9.]+\)\n$`)
	if !want.Match(out) {
		t.Errorf("frontdoor version: %s\nwant %s", out, want)
	}
	if again, _ := exec.Command(bin, "--version").Output(); string(again) != string(out) {
		t.Errorf("--version %q differs from version %q", again, out)
	}
	// A change not committed is said so.
	os.WriteFile(filepath.Join(src, "README.md"), []byte("changed"), 0o644)
	rebuild := exec.Command(build.Args[0], build.Args[1:]...)
	rebuild.Dir, rebuild.Env = build.Dir, build.Env
	if out, err := rebuild.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, _ := exec.Command(bin, "version").Output(); !strings.Contains(string(out), ", with uncommitted changes,") {
		t.Errorf("dirty tree: %s", out)
	}
}

// moduleRoot is the directory of go.mod, two levels up from this package.
func moduleRoot(t *testing.T) string {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// frontdoorBinary is this checkout's frontdoor, built once for the tests that run it as a user
// would (shell completion).
func frontdoorBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "frontdoor-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "frontdoor")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/frontdoor")
		cmd.Dir = moduleRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = &buildError{err, string(out)}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }
