package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/frontdoor-dev/frontdoor/certs/certtest"
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

// Admin credentials are never sent over the plain network path: without a secure (SSH-forwarded)
// dial, setting the Base URL is refused before any request carries them; with one, the PUT and
// its Authorization header go through it alone (issue 11 row 4).
func TestCredentialsOnlyThroughSSH(t *testing.T) {
	var plainAuth, secureAuth []string
	handler := func(seen *[]string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if a := r.Header.Get("Authorization"); a != "" {
				*seen = append(*seen, r.Method+" "+a)
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
	plain := httptest.NewServer(handler(&plainAuth))
	defer plain.Close()
	secure := httptest.NewServer(handler(&secureAuth))
	defer secure.Close()
	_, port, _ := net.SplitHostPort(plain.Listener.Addr().String())
	tg := Target{App: "jira", BaseURL: "http://jira.example.com:" + port, Address: "127.0.0.1"}
	cred := Credentials{User: "admin", Password: "hunter2"}
	if err := SetJiraBaseURL(context.Background(), tg, cred); err == nil || !strings.Contains(err.Error(), "only through the host's SSH connection") {
		t.Fatalf("no secure path: %v", err)
	}
	tg.Secure = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, secure.Listener.Addr().String())
	}
	if err := SetJiraBaseURL(context.Background(), tg, cred); err != nil {
		t.Fatal(err)
	}
	if len(plainAuth) != 0 || len(secureAuth) != 1 || !strings.HasPrefix(secureAuth[0], "PUT Basic ") {
		t.Errorf("plain path saw %v, secure path %v", plainAuth, secureAuth)
	}
}

// A proxy answering 503 (the app behind it still starting) is transient wherever it comes: on
// the base URL, on Jira's serverInfo and on Synchrony's WebSocket upgrade (found by the fault
// matrix: a 502 on serverInfo or on the upgrade ended in a rollback instead of a retry). A 404 is
// not.
func TestStartingAppIsTransientEverywhere(t *testing.T) {
	code := 503
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Write([]byte("ok"))
			return
		}
		http.Error(w, "starting", code)
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	tg := Target{App: "jira", BaseURL: "http://jira.example.com:" + port, Address: host}
	for _, c := range []int{502, 503, 504, 404} {
		code = c
		_, err := JiraBaseURL(context.Background(), tg)
		if err == nil || Transient(err) != (c != 404) {
			t.Errorf("serverInfo answering %d: transient=%v (%v)", c, Transient(err), err)
		}
		_, err = WebSocket(context.Background(), tg, "/synchrony/v1/bayeux-sync1/websocket")
		if err == nil || Transient(err) != (c != 404) {
			t.Errorf("WebSocket upgrade answering %d: transient=%v (%v)", c, Transient(err), err)
		}
	}
}

// Served describes the certificate a TLS server presents for a name and says whether it
// verifies against the roots given: a certificate for another name, or roots that do not hold
// its CA, are described and marked NOT verified.
func TestServed(t *testing.T) {
	ca := certtest.NewCA(t)
	cert, key := ca.Issue(t, []string{"jira.example.com"}, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	pair, err := tls.X509KeyPair(append(cert, ca.IntermediatePEM...), key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, c := range []struct {
		name  string
		roots *x509.CertPool
		want  string
	}{
		{"jira.example.com", ca.Pool(), ": verified"},
		{"jira.example.com", nil, ": NOT verified: x509: certificate signed by unknown authority"},
		{"wiki.example.com", ca.Pool(), ": NOT verified: x509: certificate is valid for jira.example.com, not wiki.example.com"},
	} {
		got, err := Served(context.Background(), Target{App: "jira", BaseURL: "https://" + c.name + ":" + port, Address: host, RootCAs: c.roots})
		if err != nil || !strings.HasPrefix(got, "subject CN=jira.example.com, issuer CN=") || !strings.HasSuffix(got, c.want) {
			t.Errorf("%s: %q %v, want ...%q", c.name, got, err, c.want)
		}
	}
}
