// Package verify owns the proof that a rollout worked (the guide's Part C): from the controller,
// HTTP requests to the host's Apache with the public Host header (no DNS needed) must answer, every
// absolute redirect must stay under the public base URL, and the application's own Base URL
// (Jira: GET /rest/api/2/serverInfo) must equal it; it can set the Base URL through the
// product's REST API with admin credentials.
package verify

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Target is one application to verify through the proxy on one host.
type Target struct {
	App     string // "jira"
	BaseURL string // public base URL, no trailing slash: http://jira.example.com or http://x/jira
	Address string // where the host's Apache is reached from here
	// Dial, if set, replaces the TCP dial to Address:port (tests reach an in-memory host's
	// Apache through it).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Secure reaches the host's Apache over an authenticated channel (the SSH connection's
	// forwarding): the only way admin credentials leave the controller. Without it, setting the
	// Base URL is refused.
	Secure func(ctx context.Context, network, addr string) (net.Conn, error)
	// RootCAs are the roots an https BaseURL's certificate must chain to (nil: the system's).
	RootCAs *x509.CertPool
	// Fingerprint, if set, is the certificate Apache must serve ("sha256:" + hex of its DER):
	// the one frontdoor uploaded, not another vhost's or a default one.
	Fingerprint string
	// Route, with RouteCookie, pins every request to one node of a balancer (the cookie's value
	// is "."+Route, as mod_proxy_balancer reads it); an answer that sets the cookie to another
	// route came from another node, and fails as a *RouteError.
	Route, RouteCookie string
}

// RouteError is an answer through a balancer from another node than the one asked for.
type RouteError struct {
	App, Want, Got string
}

func (e *RouteError) Error() string {
	return fmt.Sprintf("%s: a request pinned to node %s was answered by %s: the balancer does not send it to %s (drained, stopped, or failing its health check)", e.App, e.Want, e.Got, e.Want)
}

// pinned adds the route cookie to each request and checks the node that answered.
type pinned struct {
	base http.RoundTripper
	t    Target
}

func (p pinned) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Cookie", p.t.RouteCookie+"=."+p.t.Route)
	resp, err := p.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	for _, c := range resp.Cookies() {
		if c.Name == p.t.RouteCookie && c.Value != "."+p.t.Route {
			resp.Body.Close()
			return nil, &RouteError{App: p.t.App, Want: p.t.Route, Got: strings.TrimPrefix(c.Value, ".")}
		}
	}
	return resp, nil
}

// Credentials are an application admin's, for setting the Base URL. Never logged.
type Credentials struct {
	User, Password string
}

// Result is what verification found.
type Result struct {
	App         string   // the app verified (set by the caller)
	URL         string   // what was verified, when not the app's public base URL (a node, directly)
	Node        string   // a Data Center cluster's node checked on itself, not through a proxy
	Chain       []string // requested URLs and their statuses, in order
	AppBaseURL  string   // what the application says its Base URL is
	BaseURLSet  bool     // frontdoor set it during this verification
	BaseURLNote string   // what to do when it differs and was not set, or how to check it by hand
	// BaseURLManual: the product has no API for its Base URL; BaseURLNote says where to check it.
	BaseURLManual bool
}

// client dials the host's address whatever the URL's host name is, and never follows redirects
// itself, so each Location can be checked.
// dialer is how the host's Apache is reached: t.Dial, else TCP with a 10 s connect timeout.
func (t Target) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if t.Dial != nil {
		return t.Dial
	}
	return (&net.Dialer{Timeout: 10 * time.Second}).DialContext
}

func client(t Target) *http.Client {
	addr, dial := t.Address, t.dialer()
	var rt http.RoundTripper = &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, hostport string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(hostport)
			return dial(ctx, network, net.JoinHostPort(addr, port))
		},
		DisableKeepAlives: true,
		TLSClientConfig:   t.tlsConfig(),
	}
	if t.Route != "" {
		rt = pinned{base: rt, t: t}
	}
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// tlsConfig checks the served certificate against the roots and the public name (taken from
// the URL, and sent as SNI, as a browser does).
func (t Target) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: t.RootCAs, MinVersion: tls.VersionTLS12}
}

// fingerprint is "sha256:" + hex of a certificate's DER, as certs.Fingerprint writes it.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// leafName names a served certificate: its common name, else (ACME CAs leave the subject empty)
// its first DNS name.
func leafName(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	}
	return c.Subject.String()
}

// checkServed says which certificate the proxy served, and fails when it is not the expected one.
func (t Target) checkServed(cs *tls.ConnectionState) (string, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return "", nil
	}
	leaf := cs.PeerCertificates[0]
	fp := fingerprint(leaf)
	line := fmt.Sprintf("certificate %s, issuer %s, expires %s, %s: ", leafName(leaf), leaf.Issuer.CommonName, leaf.NotAfter.Format("2006-01-02"), fp[:23])
	if t.Fingerprint == "" {
		line += "verified against the roots (no configured certificate to compare it with)"
	} else {
		line += "verified, the configured one"
	}
	if t.Fingerprint != "" && fp != t.Fingerprint {
		return line, &ServedError{fmt.Errorf("%s: the proxy serves the certificate %s (%s, issuer %s), not the one configured (%s): another VirtualHost answers for the name on this port, or httpd was not restarted",
			t.App, fp, leafName(leaf), leaf.Issuer.CommonName, t.Fingerprint)}
	}
	return line, nil
}

// ServedError is a served certificate other than the configured one.
type ServedError struct{ error }

func (e *ServedError) Unwrap() error { return e.error }

// StatusError is an answer through the proxy that is neither 2xx nor a redirect.
type StatusError struct {
	App, URL, Address string
	Code              int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: GET %s through the proxy at %s answered %d", e.App, e.URL, e.Address, e.Code)
}

// Transient says whether a failed verification may pass on its own soon: nothing listens yet,
// the connection was reset, the proxy answers 502, 503 or 504 (the app behind it is still
// starting), or serves another certificate than the configured one (old children finishing after
// a graceful reload; one that persists fails once the wait is over). A wrong redirect or a 404 is
// not transient.
func Transient(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == 502 || se.Code == 503 || se.Code == 504
	}
	var sv *ServedError
	if errors.As(err, &sv) {
		return true // after a graceful reload, old children serve the old certificate a moment
	}
	var re *RouteError
	if errors.As(err, &re) {
		return true // a node just back waits for its next health check
	}
	var ne net.Error
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &ne) && ne.Timeout())
}

// Proxy requests the base URL through the host's Apache and follows redirects (at most 10) while
// each one stays under the base URL; the last answer must be 2xx.
func Proxy(ctx context.Context, t Target) (Result, error) {
	var res Result
	c := client(t)
	next := t.BaseURL + "/"
	for i := 0; i < 10; i++ {
		req, err := http.NewRequestWithContext(ctx, "GET", next, nil)
		if err != nil {
			return res, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return res, fmt.Errorf("%s through the proxy at %s: GET %s: %w", t.App, t.Address, next, err)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if i == 0 {
			line, err := t.checkServed(resp.TLS)
			if line != "" {
				res.Chain = append(res.Chain, line)
			}
			if err != nil {
				return res, err
			}
		}
		res.Chain = append(res.Chain, fmt.Sprintf("%s -> %d", next, resp.StatusCode))
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return res, nil
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc := resp.Header.Get("Location")
			u, err := req.URL.Parse(loc)
			if err != nil {
				return res, fmt.Errorf("%s: bad Location %q: %w", t.App, loc, err)
			}
			// Any Location that leaves the request's origin (absolute, or scheme-relative like
			// //evil.example/login, which browsers follow to another host) must stay under the
			// public base URL.
			leaves := strings.Contains(loc, "://") || strings.HasPrefix(loc, "//") || u.Host != req.URL.Host || u.Scheme != req.URL.Scheme
			// A backslash where a browser reads a slash (/\evil.example) leaves it too.
			backslash := strings.HasPrefix(strings.TrimLeft(loc, "/"), "\\") || strings.HasPrefix(loc, "\\")
			if backslash || (leaves && !under(u.String(), t.BaseURL)) {
				return res, fmt.Errorf("%s: GET %s redirected to %s, outside the public base URL %s: "+
					"Tomcat does not know it is behind the proxy (check proxyName, proxyPort, scheme and the context path)",
					t.App, next, loc, t.BaseURL)
			}
			next = u.String()
		default:
			return res, &StatusError{App: t.App, URL: next, Address: t.Address, Code: resp.StatusCode}
		}
	}
	return res, fmt.Errorf("%s: more than 10 redirects from %s", t.App, t.BaseURL)
}

func under(u, base string) bool {
	return u == base || strings.HasPrefix(u, base+"/") || strings.HasPrefix(u, base+"?")
}

// JiraBaseURL reads Jira's Base URL through the proxy.
func JiraBaseURL(ctx context.Context, t Target) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", t.BaseURL+"/rest/api/2/serverInfo", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client(t).Do(req)
	if err != nil {
		return "", fmt.Errorf("%s: serverInfo through the proxy: %w", t.App, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != 200 {
		// A StatusError, so a 502/503 while Jira finishes starting is retried like any other.
		return "", &StatusError{App: t.App, URL: t.BaseURL + "/rest/api/2/serverInfo", Address: t.Address, Code: resp.StatusCode}
	}
	var info struct {
		BaseURL string `json:"baseUrl"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return "", fmt.Errorf("%s: serverInfo is not JSON: %w", t.App, err)
	}
	return info.BaseURL, nil
}

// SetJiraBaseURL sets Jira's Base URL through the proxy with PUT /rest/api/2/settings/baseUrl.
func SetJiraBaseURL(ctx context.Context, t Target, cred Credentials) error {
	body, _ := json.Marshal(t.BaseURL)
	req, err := http.NewRequestWithContext(ctx, "PUT", t.BaseURL+"/rest/api/2/settings/baseUrl", bytes.NewReader(body))
	if err != nil {
		return err
	}
	if t.Secure == nil {
		return fmt.Errorf("%s: set Base URL: the admin credentials travel only through the host's SSH connection, and this check has none", t.App)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(cred.User, cred.Password)
	secure := t
	secure.Dial = t.Secure
	resp, err := client(secure).Do(req)
	if err != nil {
		return fmt.Errorf("%s: set Base URL: %w", t.App, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch resp.StatusCode {
	case 200, 204:
		return nil
	case 401, 403:
		return fmt.Errorf("%s: set Base URL: the admin credentials were refused (%d)", t.App, resp.StatusCode)
	default:
		return fmt.Errorf("%s: set Base URL: PUT answered %d", t.App, resp.StatusCode)
	}
}

// Jira verifies Jira through the proxy: redirects, then the Base URL; with cred it sets a Base
// URL that differs. A differing Base URL without cred is not an error of the proxy: the result
// says what to do.
func Jira(ctx context.Context, t Target, cred *Credentials) (Result, error) {
	res, err := Proxy(ctx, t)
	if err != nil {
		return res, err
	}
	got, err := JiraBaseURL(ctx, t)
	if err != nil {
		return res, err
	}
	res.AppBaseURL = got
	if strings.TrimSuffix(got, "/") == t.BaseURL {
		return res, nil
	}
	if cred == nil {
		res.BaseURLNote = fmt.Sprintf("Jira's Base URL is %s, not %s: set it with --set-base-url, or in Jira: Administration > System > General configuration > Edit settings > Base URL", got, t.BaseURL)
		return res, nil
	}
	if err := SetJiraBaseURL(ctx, t, *cred); err != nil {
		return res, err
	}
	if got, err = JiraBaseURL(ctx, t); err != nil {
		return res, err
	}
	res.AppBaseURL = got
	if strings.TrimSuffix(got, "/") != t.BaseURL {
		return res, fmt.Errorf("%s: Base URL is still %s after setting it to %s", t.App, got, t.BaseURL)
	}
	res.BaseURLSet = true
	return res, nil
}

// WebSocket asks for a WebSocket upgrade of path through the proxy (as Confluence's editor does
// for Synchrony) and wants "101 Switching Protocols" back: Apache's RewriteRule to ws:// and
// mod_proxy_wstunnel work end to end.
func WebSocket(ctx context.Context, t Target, path string) (string, error) {
	u, err := url.Parse(t.BaseURL)
	if err != nil {
		return "", err
	}
	port, ws := u.Port(), "ws"
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	conn, err := t.dialer()(ctx, "tcp", net.JoinHostPort(t.Address, port))
	if err != nil {
		return "", fmt.Errorf("%s: WebSocket through the proxy: %w", t.App, err)
	}
	if u.Scheme == "https" { // wss: the same certificate checks as any request
		cfg := t.tlsConfig()
		cfg.ServerName = u.Hostname()
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return "", fmt.Errorf("%s: WebSocket through the proxy: %w", t.App, err)
		}
		conn, ws = tc, "wss"
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: ZnJvbnRkb29yLXByb2JlMQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, u.Host)
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("%s: WebSocket through the proxy: no answer: %w", t.App, err)
	}
	status = strings.TrimSpace(status)
	line := fmt.Sprintf("%s %s%s -> %s", ws, u.Host, path, status)
	if f := strings.Fields(status); len(f) >= 2 && (f[1] == "502" || f[1] == "503" || f[1] == "504") {
		// Synchrony still starting behind Apache: transient, as for any request (Transient).
		code, _ := strconv.Atoi(f[1])
		return line, &StatusError{App: t.App, URL: ws + "://" + u.Host + path, Address: t.Address, Code: code}
	}
	if !strings.Contains(status, " 101") {
		return line, fmt.Errorf("%s: WebSocket upgrade of %s through the proxy answered %q, want 101: "+
			"check mod_proxy_wstunnel and mod_rewrite and that Synchrony runs", t.App, path, status)
	}
	return line, nil
}

// HTTPRedirect checks that plain http on port 80 for an https BaseURL's name answers with a
// permanent redirect to the https URL (the same path under it).
func HTTPRedirect(ctx context.Context, t Target) (string, error) {
	u, err := url.Parse(t.BaseURL)
	if err != nil {
		return "", err
	}
	from := "http://" + u.Hostname() + u.Path + "/"
	req, err := http.NewRequestWithContext(ctx, "GET", from, nil)
	if err != nil {
		return "", err
	}
	resp, err := client(t).Do(req)
	if err != nil {
		return "", fmt.Errorf("%s: plain http through the proxy at %s: GET %s: %w", t.App, t.Address, from, err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	line := fmt.Sprintf("%s -> %d %s", from, resp.StatusCode, loc)
	if resp.StatusCode == 502 || resp.StatusCode == 503 || resp.StatusCode == 504 {
		return line, &StatusError{App: t.App, URL: from, Address: t.Address, Code: resp.StatusCode}
	}
	if resp.StatusCode != 301 && resp.StatusCode != 308 || loc != t.BaseURL+"/" {
		return line, fmt.Errorf("%s: GET %s answered %d %q, want a permanent redirect to %s/: plain http must go to https", t.App, from, resp.StatusCode, loc, t.BaseURL)
	}
	return line, nil
}

// Served says which certificate the proxy serves for t's https BaseURL (asked with its name as
// SNI) and whether it verifies for that name against t.RootCAs (nil: the system's roots): for
// facts, so a verification failure here is part of the answer, not an error.
func Served(ctx context.Context, t Target) (string, error) {
	u, err := url.Parse(t.BaseURL)
	if err != nil {
		return "", err
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	conn, err := t.dialer()(ctx, "tcp", net.JoinHostPort(t.Address, port))
	if err != nil {
		return "", fmt.Errorf("%s: %w", u.Host, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	// Verified below, by hand, so that an untrusted certificate is still described.
	tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		return "", fmt.Errorf("%s: TLS handshake: %w", u.Host, err)
	}
	certs := tc.ConnectionState().PeerCertificates
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	subject := "CN=" + leaf.Subject.CommonName
	if leaf.Subject.CommonName == "" {
		subject = "(none), for " + leafName(leaf)
	}
	desc := fmt.Sprintf("subject %s, issuer CN=%s, expires %s, %s", subject, leaf.Issuer.CommonName,
		leaf.NotAfter.UTC().Format(time.DateOnly), fingerprint(leaf)[:len("sha256:")+16])
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: u.Hostname(), Roots: t.RootCAs, Intermediates: inter}); err != nil {
		return desc + ": NOT verified: " + err.Error(), nil
	}
	return desc + ": verified", nil
}
