package verify

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseBase(t *testing.T) {
	for _, c := range []struct {
		in, scheme, host, ctx string
		port                  int
	}{
		{"http://jira.example.com", "http", "jira.example.com", "", 80},
		{"http://jira.example.com/", "http", "jira.example.com", "", 80},
		{"https://example.com/jira/", "https", "example.com", "/jira", 443},
		{"http://example.com:9800/a/b", "http", "example.com", "/a/b", 9800},
	} {
		s, h, p, ctx, err := ParseBase(c.in)
		if err != nil || s != c.scheme || h != c.host || p != c.port || ctx != c.ctx {
			t.Errorf("%s: %s %s %d %q %v", c.in, s, h, p, ctx, err)
		}
	}
	for _, bad := range []string{"jira.example.com", "http://u:p@x.com", "http://x.com?q=1", "http://x.com:0", "http://x.com//a"} {
		if _, _, _, _, err := ParseBase(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// A local server stands in for Apache: verification follows redirects under the base URL and
// refuses one that leaves it (Tomcat not configured for the proxy).
func TestProxyRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Host, "jira.example.com:") { // the public name, dialled at the server's address
			http.Error(w, "wrong host "+r.Host, 400)
			return
		}
		switch r.URL.Path {
		case "/jira/":
			http.Redirect(w, r, "http://"+r.Host+"/jira/secure/Dashboard.jspa", 302)
		case "/jira/secure/Dashboard.jspa":
			w.Write([]byte("ok"))
		case "/bad/":
			http.Redirect(w, r, "http://10.0.0.1:8080/bad/x", 302)
		}
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	base := "http://jira.example.com:" + port
	res, err := Proxy(context.Background(), Target{App: "jira", BaseURL: base + "/jira", Address: host})
	if err != nil || len(res.Chain) != 2 {
		t.Fatalf("good chain: %v %v", res.Chain, err)
	}
	_, err = Proxy(context.Background(), Target{App: "jira", BaseURL: base + "/bad", Address: host})
	if err == nil || !strings.Contains(err.Error(), "outside the public base URL") {
		t.Fatalf("bad redirect: %v", err)
	}
}
