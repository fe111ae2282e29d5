package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/distro"
	"github.com/frontdoor-dev/frontdoor/fleet"
	"github.com/frontdoor-dev/frontdoor/internal/labtest"
	"github.com/frontdoor-dev/frontdoor/memhost"
	"github.com/frontdoor-dev/frontdoor/playbooks"
	"github.com/frontdoor-dev/frontdoor/session"
	"github.com/frontdoor-dev/frontdoor/target"
)

// TestMemhostIsFaithful keeps the in-memory host honest, for each kind of host the fault matrix
// (fleet.TestFaultMatrix) runs on: a fresh lab host and a fresh memhost of the same name give the
// same facts that matter and exactly the same plan (every step, action, summary and diff) for the
// same playbook; and a whole apply, then frontdoor rollback RUN, send both exactly the same
// sequence of operations (every command, file read, write and removal, run ids aside). The unit
// tests of session, fleet and cmd stand on memhost; this is what lets them.
func TestMemhostIsFaithful(t *testing.T) {
	l := labtest.Open(t)
	jiraOwnName := "apps:\n  - product: jira\n    url: http://{{host}}.example.com\napache:\n  remote_ip: true\n"
	for _, c := range []struct {
		name      string
		lab       func() labtest.Host
		mem       func(string) *memhost.Host
		user      string
		playbooks []string // files of e2e's playbooks, or inline YAML
	}{
		{"Debian, Jira", func() labtest.Host { return l.HostWithInit(t, "systemd") }, memhost.New, "",
			[]string{"jira-subdomain.yaml", "jira-context-path.yaml", jiraOwnName}},
		{"Debian, Jira + Confluence + Bitbucket", func() labtest.Host { return l.HostWithProducts(t, "jira", "confluence", "bitbucket") },
			func(n string) *memhost.Host {
				h := memhost.New(n)
				h.Install("confluence")
				h.Install("bitbucket")
				return h
			}, "",
			[]string{"atlassian-context-paths.yaml"}},
		{"Red Hat layout", func() labtest.Host { return l.HostWithFlavor(t, "rocky") }, memhost.NewRedHat, "", []string{jiraOwnName}},
		{"Windows (emulated)", func() labtest.Host { return l.HostWithFlavor(t, "windows") }, memhost.NewWindows, "Administrator",
			[]string{"apps:\n  - product: jira\n    url: http://{{host}}.example.com\n    windows_service: JIRA050414092732\napache:\n  remote_ip: true\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := c.lab()
			invPath := l.Inventory
			if c.user != "" {
				invPath = l.WriteInventory(t, c.user, "", h)
			}
			inv, err := playbooks.LoadInventory(invPath)
			if err != nil {
				t.Fatal(err)
			}
			for i, src := range c.playbooks {
				var pb *playbooks.Playbook
				if strings.HasSuffix(src, ".yaml") {
					pb, err = playbooks.LoadPlaybook(playbook(t, src))
				} else {
					pb, err = playbooks.ParsePlaybook(fmt.Sprintf("inline-%d.yaml", i), []byte(src))
				}
				if err != nil {
					t.Fatal(err)
				}
				l.Reset(t, h)
				fl := memhost.NewFleet()
				fl.Hosts[h.Name] = c.mem(h.Name)
				defer fl.Close()
				samePlan(t, src, pb, inv.Hosts[h.Name], labDial(inv), func(context.Context, *playbooks.Host) (target.Conn, error) { return fl.Conn(h.Name) })
				if i == len(c.playbooks)-1 {
					real := applyAndUndo(t, pb, inv.Hosts[h.Name], session.Options{Dial: labDial(inv)})
					mem := applyAndUndo(t, pb, inv.Hosts[h.Name], session.Options{Dial: func(context.Context, *playbooks.Host) (target.Conn, error) { return fl.Conn(h.Name) }, HTTPDial: fl.HTTPDial})
					if d := firstDiff(real, mem); d != "" {
						t.Errorf("%s: the operations of apply + rollback differ (%d on the real host, %d on memhost):\n%s", src, len(real), len(mem), d)
					}
				}
			}
		})
	}
}

// samePlan compares the facts and the plan of a lab host and a memhost.
func samePlan(t *testing.T, name string, pb *playbooks.Playbook, host *playbooks.Host, realDial, memDial session.Dial) {
	ctx := context.Background()
	real := session.Prepare(ctx, pb, host, session.Options{Dial: realDial})
	mem := session.Prepare(ctx, pb, host, session.Options{Dial: memDial})
	real.Close()
	mem.Close()
	if real.Err != nil || mem.Err != nil {
		t.Fatalf("%s: real: %v; memhost: %v", name, real.Err, mem.Err)
	}
	rf, mf := real.Facts, mem.Facts
	for _, c := range []struct{ what, real, mem string }{
		{"platform", rf.Describe(), mf.Describe()},
		{"family", string(rf.Family), string(mf.Family)},
		{"init", rf.Init, mf.Init},
		{"apache layout", rf.Apache.Layout, mf.Apache.Layout},
		{"apache running", fmt.Sprint(rf.Apache.Running), fmt.Sprint(mf.Apache.Running)},
		{"modules", fmt.Sprint(keys(rf.Apache.Modules)), fmt.Sprint(keys(mf.Apache.Modules))},
		{"sites", fmt.Sprint(keys(rf.Apache.Sites)), fmt.Sprint(keys(mf.Apache.Sites))},
		{"listen", fmt.Sprint(rf.Apache.Listen), fmt.Sprint(mf.Apache.Listen)},
		{"services", fmt.Sprint(rf.Services), fmt.Sprint(mf.Services)},
		{"selinux", rf.SELinux.Mode + fmt.Sprint(rf.SELinux.NetworkConnect), mf.SELinux.Mode + fmt.Sprint(mf.SELinux.NetworkConnect)},
		{"notes", fmt.Sprint(real.Notes), fmt.Sprint(mem.Notes)},
	} {
		// The platform line names versions (kernel, Apache build) the lab's packages decide.
		if c.real != c.mem && c.what != "platform" {
			t.Errorf("%s: %s differs:\nreal:    %s\nmemhost: %s", name, c.what, c.real, c.mem)
		}
	}
	if len(real.Plan.Steps) != len(mem.Plan.Steps) {
		t.Fatalf("%s: %d steps on the real host, %d on memhost", name, len(real.Plan.Steps), len(mem.Plan.Steps))
	}
	for i, s := range real.Plan.Steps {
		rc, mc := real.Plan.Changes[i], mem.Plan.Changes[i]
		if s.Name() != mem.Plan.Steps[i].Name() || rc != mc {
			t.Errorf("%s: step %d differs:\nreal:    %s %s %s\n%s\nmemhost: %s %s %s\n%s", name, i, s.Name(), rc.Action.Symbol(), rc.Summary, rc.Diff,
				mem.Plan.Steps[i].Name(), mc.Action.Symbol(), mc.Summary, mc.Diff)
		}
	}
}

// applyAndUndo applies pb to host, then rolls that run back, and returns every operation the
// host saw, run ids and random names replaced.
func applyAndUndo(t *testing.T, pb *playbooks.Playbook, host *playbooks.Host, opts session.Options) []string {
	rec := &recorder{}
	opts.Wrap = func(c target.Conn) target.Conn { return &recordingConn{Conn: c, r: rec} }
	now := time.Now()
	owner := fleet.Me(fleet.NewRunID(now), now)
	emit := fleet.NewEmitter(owner.Run, func(fleet.Event) {})
	res := (&fleet.Rollout{Playbook: pb, Hosts: []*playbooks.Host{host}, Opts: opts, Forks: 1, Emit: emit, Owner: owner}).Run(context.Background())
	if res.Hosts[0].Status != fleet.StatusChanged {
		t.Fatalf("apply on %s: %s %v", host.Name, res.Hosts[0].Status, res.Hosts[0].Err)
	}
	rec.add("-- rollback")
	undoer := fleet.Me(fleet.NewRunID(now.Add(time.Second)), now)
	u := (&fleet.Undo{Hosts: []*playbooks.Host{host}, Opts: opts, Forks: 1, Target: owner.Run, Emit: fleet.NewEmitter(undoer.Run, func(fleet.Event) {}), Owner: undoer}).Run(context.Background())
	if u.Hosts[0].Err != nil {
		t.Fatalf("rollback on %s: %v", host.Name, u.Hosts[0].Err)
	}
	return rec.normalized(owner.Run, undoer.Run)
}

type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) add(op string) { r.mu.Lock(); r.ops = append(r.ops, op); r.mu.Unlock() }

var (
	tempRe = regexp.MustCompile(`\.frontdoor-[^/' ]*\.[0-9a-f]+`)
	pidRe  = regexp.MustCompile(`pid=\d+|started=[0-9TZ:-]+`)
	hostRe = regexp.MustCompile(`controller=[^ '"]*`)
)

func (r *recorder) normalized(runs ...string) []string {
	var out []string
	for _, op := range r.ops {
		for i, run := range runs {
			op = strings.ReplaceAll(op, run, fmt.Sprintf("RUN%d", i))
		}
		op = tempRe.ReplaceAllString(op, ".frontdoor-TEMP")
		op = pidRe.ReplaceAllString(op, "X")
		out = append(out, hostRe.ReplaceAllString(op, "controller=C"))
	}
	return out
}

// recordingConn records each operation of a connection: a command by its first line (a
// PowerShell command by its verb and parameters), a file operation by its path.
type recordingConn struct {
	target.Conn
	r *recorder
}

func (c *recordingConn) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	what := cmd
	if verb, p, err := distro.DecodeWinCommand(cmd); err == nil {
		p.Lock = "" // holds the controller's name and the time
		what = fmt.Sprintf("powershell %s %+v", verb, p)
	}
	c.r.add("run " + what)
	return c.Conn.Run(ctx, cmd, stdin)
}

func (c *recordingConn) ReadFile(ctx context.Context, p string) (target.File, error) {
	c.r.add("read " + p)
	return c.Conn.ReadFile(ctx, p)
}

func (c *recordingConn) WriteFile(ctx context.Context, f target.File) error {
	if strings.Contains(f.Path, "frontdoor/runs/") {
		c.r.add("write " + f.Path) // a journal: times and pids differ
	} else {
		c.r.add(fmt.Sprintf("write %s (%d bytes)", f.Path, len(f.Data)))
	}
	return c.Conn.WriteFile(ctx, f)
}

func (c *recordingConn) Remove(ctx context.Context, p string) error {
	c.r.add("remove " + p)
	return c.Conn.Remove(ctx, p)
}

// firstDiff shows where two operation lists part, "" when they are equal.
func firstDiff(a, b []string) string {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			at := 0
			for at < len(x) && at < len(y) && x[at] == y[at] {
				at++
			}
			from := max(0, at-200)
			return fmt.Sprintf("operation %d, from byte %d:\nreal:    %.400q\nmemhost: %.400q", i+1, from, x[from:], y[from:])
		}
	}
	return ""
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
