package distro

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
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
