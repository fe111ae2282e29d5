package distro

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The readiness wait, run by a real shell: it passes as soon as something answers HTTP on the
// port, and gives up after its seconds by the clock (not by a count of tries), saying why.
func TestHTTPReadyInAShell(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(p)
	if out, err := exec.Command("/bin/sh", "-c", HTTPReady(port, "jira", 5)).CombinedOutput(); err != nil {
		t.Fatalf("answering port: %v %s", err, out)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0") // a port nobody answers on, once closed
	_, p, _ = net.SplitHostPort(l.Addr().String())
	l.Close()
	port, _ = strconv.Atoi(p)
	start := time.Now()
	out, err := exec.Command("/bin/sh", "-c", HTTPReady(port, "jira", 2)).CombinedOutput()
	if took := time.Since(start); err == nil || took < 2*time.Second || took > 6*time.Second || !strings.Contains(string(out), "jira does not answer on port "+p+" after 2 s") {
		t.Fatalf("closed port: %v after %s: %s", err, took, out)
	}
}

// The wait for free ports, run by a real shell on this machine's /proc: it passes at once when
// nothing listens, passes once a listener closes, and gives up after its seconds naming the port.
func TestPortsFreeInAShell(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	port6 := l6.Addr().(*net.TCPAddr).Port
	start := time.Now()
	out, err := exec.Command("/bin/sh", "-c", PortsFree([]int{port, port6}, 1)).CombinedOutput()
	if took := time.Since(start); err == nil || took < time.Second || !strings.Contains(string(out), "still taken after 1 s") || !strings.Contains(string(out), strconv.Itoa(port)) {
		t.Fatalf("held ports: %v after %s: %s", err, took, out)
	}
	l.Close()
	// Only the port still held is named.
	want := "port " + strconv.Itoa(port6) + " still taken after 1 s"
	if out, err := exec.Command("/bin/sh", "-c", PortsFree([]int{port, port6}, 1)).CombinedOutput(); err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("port held on ::1 only: %v %s", err, out)
	}
	time.AfterFunc(500*time.Millisecond, func() { l6.Close() })
	if out, err := exec.Command("/bin/sh", "-c", PortsFree([]int{port, port6}, 10)).CombinedOutput(); err != nil {
		t.Fatalf("ports freed: %v %s", err, out)
	}
}

// The gather's clock, free space and port holders, read by the real script in a shell on this
// machine: the clock within seconds of ours, some free space where /var/lib and /etc are, and
// this test process named (by ss, as root) as the holder of a port it listens on.
func TestGatherClockDiskHoldersInAShell(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	out, err := exec.Command("/bin/sh", "-c", Script(Request{})).Output()
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseGather(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if d := f.Clock - time.Now().Unix(); d < -5 || d > 5 {
		t.Errorf("clock %d is %d s from ours", f.Clock, d)
	}
	if f.DiskFree["/var/lib"] <= 0 || f.DiskFree["/etc"] <= 0 {
		t.Errorf("free space: %v", f.DiskFree)
	}
	if _, err := exec.LookPath("ss"); err != nil || os.Geteuid() != 0 {
		t.Skip("ss names holders only when present and run as root")
	}
	comm, _ := os.ReadFile("/proc/self/comm")
	if got := f.PortHolders[port]; !slices.Contains(got, strings.TrimSpace(string(comm))) {
		t.Errorf("port %d is held by %v, want %q", port, got, strings.TrimSpace(string(comm)))
	}
}
