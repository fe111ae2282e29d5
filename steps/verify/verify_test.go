package verify

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

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

// A redirect that leaves the public URL is refused however it is written: absolute,
// scheme-relative (//evil.example/login) or with a backslash browsers read as a slash.
func TestRedirectOffSiteRefused(t *testing.T) {
	for _, loc := range []string{"http://evil.example/login", "//evil.example/login", "/\\evil.example/login"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" {
				w.Header().Set("Location", loc)
				w.WriteHeader(http.StatusFound)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		_, err := Proxy(context.Background(), Target{App: "jira", BaseURL: "http://jira.example.com:" + port, Address: "127.0.0.1"})
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "outside the public base URL") {
			t.Errorf("Location %s: %v", loc, err)
		}
	}
}
