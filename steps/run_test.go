package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/frontdoor-dev/frontdoor/target"
)

// memHost is an in-memory Host for the runner's logic; the real transports are tested on the lab.
type memHost struct {
	files map[string]target.File
	log   []string
	fail  map[string]int // commands that fail, and how many times
}

func newMem() *memHost { return &memHost{files: map[string]target.File{}, fail: map[string]int{}} }

func (m *memHost) Name() string { return "mem" }
func (m *memHost) Run(_ context.Context, cmd string, _ []byte) ([]byte, error) {
	m.log = append(m.log, "run "+cmd)
	if m.fail[cmd] > 0 {
		m.fail[cmd]--
		return nil, fmt.Errorf("%s failed", cmd)
	}
	return nil, nil
}
func (m *memHost) ReadFile(_ context.Context, p string) (target.File, error) {
	if f, ok := m.files[p]; ok {
		return f, nil
	}
	return target.File{Path: p}, nil
}
func (m *memHost) WriteFile(_ context.Context, f target.File) error {
	m.log = append(m.log, "write "+f.Path)
	f.Exists = true
	m.files[f.Path] = f
	return nil
}
func (m *memHost) Remove(_ context.Context, p string) error {
	m.log = append(m.log, "remove "+p)
	delete(m.files, p)
	return nil
}

func (m *memHost) steps() ([]Step, []*Service) {
	conf, vhost := m.files["/app.conf"], m.files["/vhost.conf"]
	conf.Path, vhost.Path = "/app.conf", "/vhost.conf"
	return []Step{
			&FileStep{Label: "app conf", Current: conf, Notify: []string{"app"},
				Edit: func(b []byte) ([]byte, error) { return []byte(strings.ReplaceAll(string(b), "old", "new")), nil }},
			&FileStep{Label: "vhost", Current: vhost, NewMode: 0o644, Notify: []string{"httpd"},
				Edit: func([]byte) ([]byte, error) { return []byte("vhost\n"), nil }},
			&CommandStep{Label: "module", Done: m.files["/mod"].Exists, Command: "enable", Undo: "disable", Notify: []string{"httpd"}},
		}, []*Service{
			{Name: "httpd", Kind: Proxy, WasRunning: true, Validate: "validate", Configtest: "configtest", Restart: "restart httpd", Start: "start httpd", Stop: "stop httpd", Ready: "ready httpd"},
			{Name: "app", Kind: App, WasRunning: true, Start: "start app", Stop: "stop app", Ready: "ready app"},
		}
}

func (m *memHost) plan(t *testing.T) *Plan {
	ss, svc := m.steps()
	p, err := MakePlan(context.Background(), m, ss, svc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplyOrderAndRecheck(t *testing.T) {
	m := newMem()
	m.files["/app.conf"] = target.File{Path: "/app.conf", Exists: true, Data: []byte("old\n"), Mode: 0o600, UID: 7, GID: 8}
	p := m.plan(t)
	if p.Pending() != 3 {
		t.Fatalf("pending %d", p.Pending())
	}
	out, err := Apply(context.Background(), m, p, Hooks{Recheck: func(context.Context) (*Plan, error) {
		m.files["/mod"] = target.File{Exists: true} // what "enable" did
		return m.plan(t), nil
	}})
	if err != nil || out.Changed != 3 || out.RolledBack {
		t.Fatalf("apply: %v %+v", err, out)
	}
	want := "run stop app|write /app.conf|write /vhost.conf|run enable|run validate|run restart httpd|run start app|run ready app"
	if got := strings.Join(m.log, "|"); got != want {
		t.Errorf("order:\n got %s\nwant %s", got, want)
	}
	if f := m.files["/app.conf"]; f.Mode != 0o600 || f.UID != 7 || f.GID != 8 || string(f.Data) != "new\n" {
		t.Errorf("app.conf lost its mode or owner: %+v", f)
	}
}

func TestNothingPendingTouchesNothing(t *testing.T) {
	m := newMem()
	m.files["/app.conf"] = target.File{Path: "/app.conf", Exists: true, Data: []byte("new\n")}
	m.files["/vhost.conf"] = target.File{Path: "/vhost.conf", Exists: true, Data: []byte("vhost\n")}
	m.files["/mod"] = target.File{Exists: true}
	p := m.plan(t)
	verified := false
	out, err := Apply(context.Background(), m, p, Hooks{Verify: func(context.Context) error { verified = true; return nil }})
	if err != nil || out.Changed != 0 || len(m.log) != 0 || !verified {
		t.Fatalf("converged apply: err=%v changed=%d log=%v verified=%v", err, out.Changed, m.log, verified)
	}
}

func TestRollbackRestoresEverything(t *testing.T) {
	for _, failAt := range []string{"validate", "start app", "ready app", "verify", "recheck"} {
		t.Run(failAt, func(t *testing.T) {
			m := newMem()
			orig := target.File{Path: "/app.conf", Exists: true, Data: []byte("old\n"), Mode: 0o640, UID: 3, GID: 4}
			m.files["/app.conf"] = orig
			m.fail[failAt] = 1
			p := m.plan(t)
			hooks := Hooks{
				Verify: func(context.Context) error {
					if failAt == "verify" {
						return errors.New("verify failed")
					}
					return nil
				},
				Recheck: func(context.Context) (*Plan, error) {
					if failAt == "recheck" {
						return m.plan(t), nil // still pending: "inconsistent result after apply"
					}
					m.files["/mod"] = target.File{Exists: true}
					return m.plan(t), nil
				},
			}
			out, err := Apply(context.Background(), m, p, hooks)
			if err == nil || !out.RolledBack {
				t.Fatalf("want a rolled-back failure, got err=%v out=%+v", err, out)
			}
			if f := m.files["/app.conf"]; string(f.Data) != "old\n" || f.Mode != 0o640 || f.UID != 3 || f.GID != 4 {
				t.Errorf("app.conf not restored: %+v", f)
			}
			if _, ok := m.files["/vhost.conf"]; ok {
				t.Error("created vhost not removed")
			}
			if !strings.Contains(strings.Join(m.log, "|"), "run disable") {
				t.Error("module not disabled")
			}
			last := m.log[len(m.log)-1]
			if last != "run ready app" {
				t.Errorf("rollback should end by waiting for the app again, ended with %q (%v)", last, m.log)
			}
		})
	}
}

func TestRollbackAfterFailedStartRetriesStart(t *testing.T) {
	m := newMem()
	m.files["/app.conf"] = target.File{Path: "/app.conf", Exists: true, Data: []byte("old\n")}
	p := m.plan(t)
	starts := 0
	m.fail["start app"] = 2
	_, err := Apply(context.Background(), m, p, Hooks{})
	for _, l := range m.log {
		if l == "run start app" {
			starts++
		}
	}
	// The start with the new config failed, and so does the rollback's start (this fake fails it
	// every time): the error must say the rollback is incomplete.
	if err == nil || !strings.Contains(err.Error(), "ROLLBACK INCOMPLETE") || starts != 2 {
		t.Fatalf("err=%v starts=%d log=%v", err, starts, m.log)
	}
}

func TestFileStepRefusesDrift(t *testing.T) {
	m := newMem()
	m.files["/app.conf"] = target.File{Path: "/app.conf", Exists: true, Data: []byte("old\n")}
	p := m.plan(t)
	m.files["/app.conf"] = target.File{Path: "/app.conf", Exists: true, Data: []byte("old and edited by someone\n")}
	_, err := Apply(context.Background(), m, p, Hooks{})
	if err == nil || !strings.Contains(err.Error(), "changed on the host since the plan") {
		t.Fatalf("err=%v", err)
	}
}

// memStore keeps what a JournalStore would write to the host, to rebuild the journal from it.
type memStore struct {
	entries  []Entry
	services []*Service
	saves    int
}

func (s *memStore) Save(_ context.Context, j *Journal, added *Entry) error {
	s.saves++
	s.entries, s.services = j.Entries(), j.Services()
	return nil
}

// A journal saved along the way and restored elsewhere undoes the run as the live one would;
// drift is refused per file.
func TestJournalStoreRestoreAndDrift(t *testing.T) {
	ctx := context.Background()
	m := newMem()
	m.files["/app.conf"] = target.File{Path: "/app.conf", Exists: true, Data: []byte("old\n"), Mode: 0o640, UID: 7, GID: 8}
	orig := map[string]target.File{"/app.conf": m.files["/app.conf"]}
	ss, svcs := m.steps()
	p, err := MakePlan(ctx, m, ss, svcs)
	if err != nil {
		t.Fatal(err)
	}
	st := &memStore{}
	if _, err := Apply(ctx, m, p, Hooks{Store: st}); err != nil {
		t.Fatal(err)
	}
	// One save per record (2 files, 1 command) and per touched service (app, httpd).
	if st.saves != 5 || len(st.entries) != 3 || len(st.services) != 2 {
		t.Fatalf("saves %d, entries %d, services %d", st.saves, len(st.entries), len(st.services))
	}
	var data []Entry
	for _, e := range st.entries {
		e.Data = append([]byte(nil), e.Data...)
		data = append(data, e)
	}
	j, err := Restore(data, st.services)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := j.Drift(ctx, m); err != nil || len(d) != 0 {
		t.Fatalf("drift on an untouched result: %v %v", d, err)
	}
	m.files["/vhost.conf"] = target.File{Path: "/vhost.conf", Exists: true, Data: []byte("edited by hand\n")}
	if d, _ := j.Drift(ctx, m); len(d) != 1 || !strings.Contains(d[0], "/vhost.conf was changed") {
		t.Fatalf("drift not found: %v", d)
	}
	m.files["/vhost.conf"] = target.File{Path: "/vhost.conf", Exists: true, Data: []byte("vhost\n"), Mode: 0o644}
	if err := j.Rollback(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := j.CheckRestored(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.files["/vhost.conf"]; ok || string(m.files["/app.conf"].Data) != string(orig["/app.conf"].Data) {
		t.Fatalf("not restored: %+v", m.files)
	}
	data[0].Data = []byte("tampered")
	if _, err := Restore(data, nil); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("a damaged backup was accepted: %v", err)
	}
}

// Once Stopping says yes, no further change starts and what was done is undone.
func TestStoppingRollsBack(t *testing.T) {
	ctx := context.Background()
	m := newMem()
	m.files["/app.conf"] = target.File{Path: "/app.conf", Exists: true, Data: []byte("old\n")}
	ss, svcs := m.steps()
	p, _ := MakePlan(ctx, m, ss, svcs)
	calls := 0
	out, err := Apply(ctx, m, p, Hooks{Stopping: func() bool { calls++; return calls > 2 }})
	if !errors.Is(err, ErrStopped) || !out.RolledBack {
		t.Fatalf("err %v, rolled back %v", err, out.RolledBack)
	}
	if string(m.files["/app.conf"].Data) != "old\n" {
		t.Fatalf("not rolled back: %q", m.files["/app.conf"].Data)
	}
	for _, l := range m.log {
		if l == "write /vhost.conf" {
			t.Fatalf("a step started after the stop: %v", m.log)
		}
	}
}

// Diffs never show a secret's value, on changed lines or on their context.
func TestDiffRedactsSecrets(t *testing.T) {
	old := "jdbc.url=jdbc:postgresql://db:5432/bitbucket\njdbc.user=bitbucket\njdbc.password=S3cr3t!\r\nplugin.x.secret: abc\n"
	new := old + "server.proxy-name=example.com\n"
	d := Diff("/bitbucket.properties", []byte(old), []byte(new))
	if strings.Contains(d, "S3cr3t") || strings.Contains(d, "abc") || !strings.Contains(d, " jdbc.password=********\r\n") || !strings.Contains(d, "+server.proxy-name=example.com") {
		t.Errorf("properties diff:\n%s", d)
	}
	x := `<Connector port="8443" keystorePass="changeit" keystoreFile="/k"/>` + "\n"
	d = Diff("/server.xml", []byte(x), []byte(x+`<Connector port="8080" proxyName="example.com"/>`+"\n"))
	if strings.Contains(d, "changeit") || !strings.Contains(d, `keystorePass="********"`) || !strings.Contains(d, `keystoreFile="/k"`) {
		t.Errorf("server.xml diff:\n%s", d)
	}
}

// Hunk headers give the right new-file line numbers after a hunk that joins several edits
// (go-udiff v0.4.1 gets them wrong there), and for created and deleted files.
func TestDiffHunkHeaders(t *testing.T) {
	var lines []string
	for i := 1; i <= 60; i++ {
		lines = append(lines, fmt.Sprintf("#line %d", i))
	}
	old := strings.Join(lines, "\r\n") + "\r\n"
	nw := old
	for _, n := range []string{"#line 10\r", "#line 14\r", "#line 17\r"} { // three edits within one hunk
		nw = strings.Replace(nw, n, strings.TrimPrefix(n, "#"), 1)
	}
	nw = strings.Replace(nw, "#line 40\r\n", "", 1) + "added\r\n"
	var heads []string
	for _, l := range strings.Split(Diff("/f", []byte(old), []byte(nw)), "\n") {
		if strings.HasPrefix(l, "@@") {
			heads = append(heads, l)
		}
	}
	if got := strings.Join(heads, " "); got != "@@ -7,14 +7,14 @@ @@ -37,7 +37,6 @@ @@ -58,3 +57,4 @@" {
		t.Errorf("hunk headers: %s", got)
	}
	if h := strings.Split(Diff("/f", nil, []byte("a\nb\n")), "\n")[2]; h != "@@ -0,0 +1,2 @@" {
		t.Errorf("created file: %s", h)
	}
	if h := strings.Split(Diff("/f", []byte("a\nb\n"), nil), "\n")[2]; h != "@@ -1,2 +0,0 @@" {
		t.Errorf("deleted file: %s", h)
	}
}

// Secrets the first masking missed (issue 11 row 8): inside JDBC URLs and Fisheye's jdbc-url,
// a space-separated .properties key, continuation lines, XML elements, ldap.bind.pwd.
func TestDiffRedactsMoreSecrets(t *testing.T) {
	old := "jdbc.url=jdbc:postgresql://db:5432/bb?user=bb&password=UrlPw1\n" +
		"jdbc.password   SpacePw2\n" +
		"ldap.bind.pwd=LdapPw3\n" +
		"plugin.secret=part1\\\n    ContPw4\\\n    ContPw5\n" +
		"after=visible\n" +
		`<jdbc-url value="jdbc:mysql://db/fe?password=FePw6"/>` + "\n" +
		"<password>ElemPw7</password>\n"
	// A whole file as a diff (created), so every line is shown.
	d := Diff("/f", nil, []byte(old+"server.proxy-name=example.com\n"))
	for _, s := range []string{"UrlPw1", "SpacePw2", "LdapPw3", "ContPw4", "ContPw5", "FePw6", "ElemPw7"} {
		if strings.Contains(d, s) {
			t.Errorf("%s shown:\n%s", s, d)
		}
	}
	for _, s := range []string{"+after=visible", "+server.proxy-name=example.com", "user=bb&password=********", "<password>********</password>"} {
		if !strings.Contains(d, s) {
			t.Errorf("%q missing:\n%s", s, d)
		}
	}
}

// whyHost answers the service's Why command with its log lines.
type whyHost struct{ *memHost }

func (w whyHost) Run(ctx context.Context, cmd string, in []byte) ([]byte, error) {
	if cmd == "why httpd" {
		w.log = append(w.log, "run "+cmd)
		return []byte("(98)Address already in use: AH00072: make_sock: could not bind to address 0.0.0.0:9800\n"), nil
	}
	return w.memHost.Run(ctx, cmd, in)
}

// A failed start says what the service logged about it (read by Why, which changes nothing);
// a failed stop does not ask.
func TestFailedStartSaysWhy(t *testing.T) {
	m := newMem()
	h := whyHost{m}
	s := &Service{Name: "httpd", Kind: Proxy, Restart: "restart httpd", Stop: "stop httpd", Why: "why httpd"}
	m.fail["restart httpd"], m.fail["stop httpd"] = 1, 1
	err := s.restart(context.Background(), h)
	if err == nil || !strings.Contains(err.Error(), "restart httpd failed; its log says:\n(98)Address already in use: AH00072") {
		t.Errorf("restart: %v", err)
	}
	before := len(m.log)
	if err := s.run(context.Background(), h, "stop", s.Stop); err == nil || strings.Contains(err.Error(), "log says") || len(m.log) != before+1 {
		t.Errorf("stop: %v %v", err, m.log[before:])
	}
}

// An httpd restart that fails because the old process still holds the port (AH00072) waits for
// the port to be free, then starts once; any other failure, or a port that stays taken, is not
// retried and says why.
func TestRestartWaitsForAPortStillHeld(t *testing.T) {
	for _, c := range []struct {
		name      string
		freeFails int
		restart   string
		want      []string
		wantErr   string
	}{
		{"port freed", 0, "restart httpd", []string{"run restart httpd", "run why httpd", "run ports free", "run start httpd"}, ""},
		{"port stays taken", 1, "restart httpd", []string{"run restart httpd", "run why httpd", "run ports free"}, "ports free failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newMem()
			s := &Service{Name: "httpd", Kind: Proxy, Restart: "restart httpd", Start: "start httpd", Stop: "stop httpd", Why: "why httpd", PortsFree: "ports free"}
			m.fail["restart httpd"], m.fail["ports free"] = 1, c.freeFails
			err := s.restart(context.Background(), whyHost{m})
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "AH00072")) {
				t.Errorf("restart: %v", err)
			}
			if strings.Join(m.log, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("operations:\n%s\nwant:\n%s", strings.Join(m.log, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
	// Another reason (no "Address already in use" in what the service logged): no wait, no start.
	m := newMem()
	s := &Service{Name: "httpd", Kind: Proxy, Restart: "restart httpd", Start: "start httpd", PortsFree: "ports free"}
	m.fail["restart httpd"] = 1
	if err := s.restart(context.Background(), m); err == nil || len(m.log) != 1 {
		t.Errorf("restart: %v %v", err, m.log)
	}
}

// A secret file's change is described, never shown: not in the plan's diff of a create, an
// update or a delete.
func TestSecretFileNotShown(t *testing.T) {
	const key = "-----BEGIN PRIVATE KEY-----\nTOPSECRETBYTES\n-----END PRIVATE KEY-----\n"
	desc := func(b []byte) string { return fmt.Sprintf("(not shown) key of %d bytes", len(b)) }
	for _, c := range []struct {
		name    string
		current target.File
		want    []byte
		show    []string
	}{
		{"create", target.File{Path: "/k"}, []byte(key), []string{"+(not shown) key of 69 bytes"}},
		{"update", target.File{Path: "/k", Exists: true, Data: []byte(key + "x")}, []byte(key), []string{"-(not shown) key of 70 bytes", "+(not shown) key of 69 bytes"}},
		{"delete", target.File{Path: "/k", Exists: true, Data: []byte(key)}, nil, []string{"-(not shown) key of 69 bytes"}},
	} {
		s := &FileStep{Label: "key", Current: c.current, Edit: func([]byte) ([]byte, error) { return c.want, nil }, Describe: desc}
		ch, err := s.Check(context.Background(), newMem())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(ch.Diff, "TOPSECRET") || strings.Contains(ch.Summary, "TOPSECRET") {
			t.Errorf("%s: the key is shown:\n%s", c.name, ch.Diff)
		}
		for _, w := range c.show {
			if !strings.Contains(ch.Diff, w) {
				t.Errorf("%s: %q missing:\n%s", c.name, w, ch.Diff)
			}
		}
	}
}

// A step that asks only for a reload of the proxy gets a reload (after the configuration check),
// not a restart; any other pending change of it still restarts it.
func TestReloadOnly(t *testing.T) {
	httpd := func() *Service {
		return &Service{Name: "httpd", Kind: Proxy, WasRunning: true, Validate: "check httpd", Restart: "restart httpd", Reload: "reload httpd"}
	}
	for _, c := range []struct {
		name    string
		notify  [][]string
		want    string
		notWant string
	}{
		{"reload only", [][]string{{"httpd" + ReloadTrigger}, {"httpd" + ReloadTrigger}}, "run reload httpd", "run restart httpd"},
		{"reload and restart", [][]string{{"httpd" + ReloadTrigger}, {"httpd"}}, "run restart httpd", "run reload httpd"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newMem()
			var ss []Step
			for i, n := range c.notify {
				ss = append(ss, &FileStep{Label: fmt.Sprint(i), Current: target.File{Path: fmt.Sprintf("/f%d", i)}, Notify: n,
					Edit: func([]byte) ([]byte, error) { return []byte("new"), nil }})
			}
			p, err := MakePlan(context.Background(), m, ss, []*Service{httpd()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Apply(context.Background(), m, p, Hooks{}); err != nil {
				t.Fatal(err)
			}
			log := strings.Join(m.log, "\n")
			if !strings.Contains(log, "run check httpd\n"+c.want) || strings.Contains(log, c.notWant) {
				t.Errorf("operations:\n%s", log)
			}
		})
	}
}

// An Owned file keeps its mode and owner: a key someone made 0644 is a change even when its
// bytes are right, and the apply writes it back 0600 root's.
func TestOwnedFileMode(t *testing.T) {
	m := newMem()
	m.files["/k"] = target.File{Path: "/k", Exists: true, Data: []byte("key"), Mode: 0o644, UID: 0, GID: 0}
	s := &FileStep{Label: "key", Current: m.files["/k"], Edit: func([]byte) ([]byte, error) { return []byte("key"), nil }, NewMode: 0o600, Owned: true}
	ch, err := s.Check(context.Background(), m)
	if err != nil || ch.Action != Update || ch.Summary != "set /k to mode 0600, owner 0:0 (it is 0644, 0:0)" {
		t.Fatalf("check: %+v %v", ch, err)
	}
	p, err := MakePlan(context.Background(), m, []Step{s}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(context.Background(), m, p, Hooks{}); err != nil {
		t.Fatal(err)
	}
	if f := m.files["/k"]; f.Mode.Perm() != 0o600 || string(f.Data) != "key" {
		t.Errorf("after apply: %o %q", f.Mode.Perm(), f.Data)
	}
	s.Current = m.files["/k"]
	if ch, _ := s.Check(context.Background(), m); ch.Action != NoOp {
		t.Errorf("converged: %+v", ch)
	}
}

// TestFinalUndoRunsLast: an install's removal (RecordFinalCommand) is undone after the files and
// the services are back (the packages' own scripts then stop what they installed), also when the
// journal was stored on the host and read back.
func TestFinalUndoRunsLast(t *testing.T) {
	for _, stored := range []bool{false, true} {
		m := newMem()
		store := &memStore{}
		j := &Journal{Store: store}
		ctx := context.Background()
		if err := j.RecordFinalCommand(ctx, "install package apache2", "purge apache2"); err != nil {
			t.Fatal(err)
		}
		if err := j.RecordCommand(ctx, "enable proxy", "disable proxy"); err != nil {
			t.Fatal(err)
		}
		proxy := &Service{Name: "httpd", Kind: Proxy, WasRunning: true, Restart: "restart httpd", Ready: "ready httpd"}
		if err := j.TouchService(ctx, proxy); err != nil {
			t.Fatal(err)
		}
		if stored {
			if !store.entries[0].Final || store.entries[1].Final {
				t.Fatalf("stored entries lost the final mark: %+v", store.entries)
			}
			var err error
			if j, err = Restore(store.entries, []*Service{proxy}); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Rollback(ctx, m); err != nil {
			t.Fatal(err)
		}
		want := "run disable proxy|run restart httpd|run ready httpd|run purge apache2"
		if got := strings.Join(m.log, "|"); got != want {
			t.Errorf("stored=%v: rollback order\n got %s\nwant %s", stored, got, want)
		}
	}
}
