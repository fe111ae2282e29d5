package memhost

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/target"
)

// The emulated host answers the real gather script in the format the real parser reads, takes
// the lock, refuses commands it does not know, and fails where a fault is injected.
func TestGatherLockAndFaults(t *testing.T) {
	h := New("m1")
	c := h.Conn()
	ctx := context.Background()
	out, err := c.Run(ctx, distro.Script(distro.Request{Files: []string{"/opt/atlassian/jira/conf/server.xml", "/nope"}, Ports: []int{8080}, Services: []string{"jira", "ghost"}, Lock: "run=r1"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := distro.ParseGather(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if f.Family != distro.Debian || !f.Apache.Running || !f.Listening[8080] || f.Services["jira"] != "systemd" || f.Services["ghost"] != "none" ||
		!f.LockAcquired || f.LockHolder != "run=r1" || string(f.File("/opt/atlassian/jira/conf/server.xml").Data) != JiraServerXML || f.File("/nope").Exists {
		t.Fatalf("facts: %+v", f)
	}
	if _, err := c.Run(ctx, "rm -rf /", nil); err == nil || !strings.Contains(err.Error(), "not a command this emulated host knows") {
		t.Errorf("unknown command: %v", err)
	}
	h.Fail("write", "/etc/x", 1, "No space left on device")
	if err := c.WriteFile(ctx, target.File{Path: "/etc/x", Data: []byte("x")}); err == nil {
		t.Error("fault not injected")
	}
	if err := c.WriteFile(ctx, target.File{Path: "/etc/x", Data: []byte("x")}); err != nil || !h.File("/etc/x").Exists {
		t.Errorf("second write: %v", err)
	}
	if _, err := c.Run(ctx, "a2ensite -q 'nosuch'", nil); err == nil {
		t.Error("a2ensite of a missing site")
	}
	var ce *target.CommandError
	if _, err := c.Run(ctx, "systemctl restart 'nosuch'", nil); !errors.As(err, &ce) {
		t.Errorf("unknown unit: %v", err)
	}
}

// httpd's Validate: configtest, then the check that frontdoor's site is the one answering its
// name; another enabled site that comes first with the same ServerName makes it fail, as on a
// real host.
func TestShadowCheck(t *testing.T) {
	h := New("m1")
	validate := "apache2ctl configtest 2>&1 && { l=$(apache2ctl -S 2>/dev/null | grep -E 'x' | head -n1); case \"$l\" in *'/frontdoor-j.example.com.conf:'*) ;; *) echo 'ServerName j.example.com on port 80 is served first by another VirtualHost:'\"${l:- (none found)}\"'.' >&2; exit 1;; esac; }"
	h.Put("/etc/apache2/sites-available/frontdoor-j.example.com.conf", "<VirtualHost *:80>\n  ServerName j.example.com\n</VirtualHost>\n", 0o644)
	h.Sites["frontdoor-j.example.com"] = true
	if _, err := h.Conn().Run(context.Background(), validate, nil); err != nil {
		t.Fatalf("alone: %v", err)
	}
	h.Put("/etc/apache2/sites-available/aaa.conf", "<VirtualHost *:80>\n  ServerName j.example.com\n</VirtualHost>\n", 0o644)
	h.Sites["aaa"] = true
	if _, err := h.Conn().Run(context.Background(), validate, nil); err == nil || !strings.Contains(err.Error(), "served first by another VirtualHost") {
		t.Fatalf("shadowed: %v", err)
	}
}

// memhost's Red Hat host is built from the same files as the lab's CentOS-layout host, byte for
// byte (e2e.TestMemhostIsFaithful compares their behaviour; this catches a copy left behind
// without the lab).
func TestRockyFilesMatchTheLab(t *testing.T) {
	for mine, lab := range map[string]string{
		"testdata/rocky/00-base.conf":  "../testdata/lab/flavors/rocky/etc/httpd/conf.modules.d/00-base.conf",
		"testdata/rocky/00-mpm.conf":   "../testdata/lab/flavors/rocky/etc/httpd/conf.modules.d/00-mpm.conf",
		"testdata/rocky/00-proxy.conf": "../testdata/lab/flavors/rocky/etc/httpd/conf.modules.d/00-proxy.conf",
		"testdata/rocky/httpd.conf":    "../testdata/lab/flavors/rocky/etc/httpd/conf/httpd.conf",
		"testdata/rocky/os-release":    "../testdata/lab/flavors/rocky/etc/os-release",
	} {
		a, err1 := os.ReadFile(mine)
		b, err2 := os.ReadFile(lab)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s (%v %v): copy the lab's file", mine, lab, err1, err2)
		}
	}
}
