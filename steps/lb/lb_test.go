package lb

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// The fixtures are balancer-manager's answers captured from the lab's Apache 2.4 (Debian 12's
// package) balancing three Jira stand-ins: testdata/manager.xml with every member in service,
// manager-stopped.xml after jira3 was set to drain and stop, manager.html the page itself.

// fake serves a fixture as balancer-manager does: parameters only with a Referer naming the
// server (else the HTML page), a POST recorded.
func fake(t *testing.T, xmlFile string, posted *string) Manager {
	t.Helper()
	xmlBody, err := os.ReadFile("testdata/" + xmlFile)
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile("testdata/manager.html")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "jira.example.com:80" || r.URL.Path != "/balancer-manager" {
			http.NotFound(w, r)
			return
		}
		if !strings.HasPrefix(r.Referer(), "http://jira.example.com") {
			w.Write(html)
			return
		}
		if r.Method == "POST" {
			r.ParseForm()
			*posted = r.PostForm.Encode()
		}
		if r.URL.Query().Get("xml") != "" {
			w.Write(xmlBody)
			return
		}
		w.Write(html)
	}))
	t.Cleanup(srv.Close)
	return Manager{Port: 80, Host: "jira.example.com", Path: "/balancer-manager",
		Dial: func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", srv.Listener.Addr().String())
		}}
}

func TestWorkers(t *testing.T) {
	m := fake(t, "manager.xml", new(string))
	ws, nonce, err := m.Workers(context.Background(), "jira")
	if err != nil {
		t.Fatal(err)
	}
	if nonce == "" || len(ws) != 3 {
		t.Fatalf("nonce %q, workers %+v", nonce, ws)
	}
	if ws[0].Name != "http://10.77.0.12:8080" || ws[0].Route != "jira2" || ws[0].Status != "Init Ok" || !ws[0].Serving() {
		t.Errorf("first worker: %+v", ws[0])
	}
	if _, _, err := m.Workers(context.Background(), "confluence"); err == nil || !strings.Contains(err.Error(), "no balancer://confluence") {
		t.Errorf("a balancer that is not there: %v", err)
	}
}

func TestStoppedIsNotServing(t *testing.T) {
	m := fake(t, "manager-stopped.xml", new(string))
	ws, _, err := m.Workers(context.Background(), "jira")
	if err != nil {
		t.Fatal(err)
	}
	if ws[1].Route != "jira3" || ws[1].Status != "Init Drn Stop" || ws[1].Serving() || !ws[0].Serving() {
		t.Errorf("workers: %+v", ws)
	}
	for _, st := range []string{"Init Drn Ok", "Init Err", "Init HcFl", "Init Dis Ok", "Init Stby Ok", ""} {
		if (Worker{Status: st}).Serving() {
			t.Errorf("%q counts as serving", st)
		}
	}
}

// TestSetSendsNonceAndChecks: the POST carries the balancer's nonce and the flags; a state that
// does not read back as asked (the fixture never changes) is an error, not a silent success.
func TestSetSendsNonceAndChecks(t *testing.T) {
	var posted string
	m := fake(t, "manager.xml", &posted)
	_, err := m.Set(context.Background(), "jira", "http://10.77.0.13:8080", State{Drain: true, Stop: true})
	if err == nil || !strings.Contains(err.Error(), "was not taken") {
		t.Errorf("a change the manager did not take: %v", err)
	}
	for _, want := range []string{"nonce=906f3881-c0ce-9833-5a7f-7bb7cfa6df1d", "w=http%3A%2F%2F10.77.0.13%3A8080", "w_status_N=1", "w_status_S=1", "b=jira"} {
		if !strings.Contains(posted, want) {
			t.Errorf("POST %q lacks %q", posted, want)
		}
	}
	if x, err := m.Set(context.Background(), "jira", "http://10.77.0.13:8080", State{}); err != nil || x.Route != "jira3" {
		t.Errorf("back in service (as the fixture already is): %+v %v", x, err)
	}
}
