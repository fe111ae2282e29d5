// Package javaref runs the small Java programs the editors are checked against (the JDK's own
// parsers, as Tomcat and java.util.Properties read files): compile, run on many files in one JVM,
// and split the output per file. Without a JDK the tests skip, or fail in CI.
package javaref

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Run compiles src (a .java file whose class is named after it) and runs it on files; each
// file's output lines follow a "== FILE" line. It returns the lines per file.
func Run(t testing.TB, src string, files []string) map[string][]string {
	t.Helper()
	if _, err := exec.LookPath("javac"); err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("FRONTDOOR_LAB_REQUIRED") == "1" {
			t.Fatal("javac is not installed (scripts/setup installs openjdk-17-jdk-headless)")
		}
		t.Skip("javac is not installed")
	}
	classes := t.TempDir()
	if out, err := exec.Command("javac", "-d", classes, src).CombinedOutput(); err != nil {
		t.Fatalf("javac %s: %v\n%s", src, err, out)
	}
	class := strings.TrimSuffix(filepath.Base(src), ".java")
	out, err := exec.Command("java", append([]string{"-cp", classes, class}, files...)...).Output()
	if err != nil {
		t.Fatalf("java %s: %v", class, err)
	}
	views := map[string][]string{}
	var cur string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if f, ok := strings.CutPrefix(line, "== "); ok {
			cur = f
			views[cur] = []string{}
			continue
		}
		views[cur] = append(views[cur], line)
	}
	return views
}
