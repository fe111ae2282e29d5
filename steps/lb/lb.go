// Package lb owns the talk with a balancer's balancer-manager (mod_proxy_balancer): the state
// of each member (its status flags and active requests, from the manager's XML) and setting a
// member to drain, to stopped, or back in service. The manager is bound to localhost on the
// balancer host; callers reach it through the host's SSH connection (Dial), never over the
// network.
package lb

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Manager is one balancer host's balancer-manager.
type Manager struct {
	// Dial reaches addr as the balancer host itself (an SSH forward to its 127.0.0.1).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	Port int    // Apache's port for the VirtualHost
	Host string // the VirtualHost's ServerName (sent as Host: and SNI)
	Path string // the manager's path, /balancer-manager
	// TLS, for an https VirtualHost: how its certificate is checked (ServerName = Host).
	TLS *tls.Config
}

// Worker is one member as the manager shows it.
type Worker struct {
	Name   string // http://address:port
	Route  string
	Status string // "Init Ok", "Init Drn Ok", "Init Stop", "Init HcFl", ...
	Busy   int    // requests in flight
}

// flag says whether the status has a flag ("Drn", "Stop", "Dis", "Err", "HcFl", "Ok", ...).
func (w Worker) flag(f string) bool {
	for _, s := range strings.Fields(w.Status) {
		if s == f {
			return true
		}
	}
	return false
}

// TakenOut says the member was put out of service on purpose (drained, stopped or disabled),
// rather than failing.
func (w Worker) TakenOut() bool {
	return w.flag("Drn") || w.flag("Stop") || w.flag("Dis")
}

// Serving says the member takes new requests: healthy, not drained, stopped or disabled.
func (w Worker) Serving() bool {
	return w.flag("Ok") && !w.flag("Drn") && !w.flag("Stop") && !w.flag("Dis") && !w.flag("Err") && !w.flag("HcFl") && !w.flag("Stby")
}

func (m Manager) client() *http.Client {
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return m.Dial(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port)))
		},
		DisableKeepAlives: true,
	}
	if m.TLS != nil {
		c := m.TLS.Clone()
		c.ServerName = m.Host
		tr.TLSClientConfig = c
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (m Manager) url(q url.Values) string {
	scheme := "http"
	if m.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(m.Host, strconv.Itoa(m.Port)), Path: m.Path, RawQuery: q.Encode()}
	return u.String()
}

func (m Manager) get(ctx context.Context, q url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", m.url(q), nil)
	if err != nil {
		return nil, err
	}
	m.referer(req)
	resp, err := m.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("balancer-manager on %s: %w", m.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("balancer-manager on %s: %w", m.Host, err)
	}
	if resp.StatusCode != 200 {
		return nil, &StatusError{Host: m.Host, Code: resp.StatusCode}
	}
	return body, nil
}

// referer names the manager's own page: without a Referer naming the server, balancer-manager
// ignores every parameter, xml=1 included (its guard against cross-site requests).
func (m Manager) referer(req *http.Request) {
	req.Header.Set("Referer", m.url(nil))
}

// StatusError is a balancer-manager that does not answer 200 (404: not configured yet there).
type StatusError struct {
	Host string
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("balancer-manager on %s answered %d", e.Host, e.Code)
}

// xmlManager is the manager's ?xml=1 page (mod_proxy_balancer's balancer_handler).
type xmlManager struct {
	Balancers []struct {
		Name    string `xml:"name"`
		Nonce   string `xml:"nonce"`
		Workers []struct {
			Name   string `xml:"name"`
			Route  string `xml:"route"`
			Status string `xml:"status"`
			Busy   int    `xml:"busy"`
		} `xml:"workers>worker"`
	} `xml:"balancers>balancer"`
}

// Workers are the members of balancer://name, and the nonce that changes to it need.
func (m Manager) Workers(ctx context.Context, name string) ([]Worker, string, error) {
	body, err := m.get(ctx, url.Values{"xml": {"1"}, "b": {name}})
	if err != nil {
		return nil, "", err
	}
	var doc xmlManager
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, "", fmt.Errorf("balancer-manager on %s: its XML: %w", m.Host, err)
	}
	for _, b := range doc.Balancers {
		if strings.TrimPrefix(b.Name, "balancer://") != name {
			continue
		}
		var out []Worker
		for _, w := range b.Workers {
			out = append(out, Worker{Name: w.Name, Route: w.Route, Status: strings.TrimSpace(w.Status), Busy: w.Busy})
		}
		nonce := b.Nonce
		if nonce == "" {
			nonce, err = m.nonce(ctx, name)
		}
		return out, nonce, err
	}
	return nil, "", &MissingError{Host: m.Host, Balancer: name}
}

// MissingError: the host's Apache has no balancer of that name (not applied there yet).
type MissingError struct{ Host, Balancer string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s has no balancer://%s (its VirtualHost is not applied there yet)", e.Host, e.Balancer)
}

var nonceRe = regexp.MustCompile(`nonce=([0-9a-fA-F-]+)`)

// nonce reads the balancer's nonce from the manager's HTML page (its links carry it): a change
// without it is ignored (mod_proxy_balancer's guard against cross-site requests).
func (m Manager) nonce(ctx context.Context, name string) (string, error) {
	body, err := m.get(ctx, url.Values{"b": {name}})
	if err != nil {
		return "", err
	}
	if mm := nonceRe.FindSubmatch(body); mm != nil {
		return string(mm[1]), nil
	}
	return "", fmt.Errorf("balancer-manager on %s: no nonce for balancer://%s in its page", m.Host, name)
}

// State is what a member is set to. HCFail marks it as failing its health check, so that
// mod_proxy_hcheck lets it serve only once a check passes.
type State struct{ Drain, Stop, HCFail bool }

// Set sets worker w (its name, http://address:port) of balancer://name to st, and reads it back.
func (m Manager) Set(ctx context.Context, name, w string, st State) (Worker, error) {
	_, nonce, err := m.Workers(ctx, name)
	if err != nil {
		return Worker{}, err
	}
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	form := url.Values{"b": {name}, "w": {w}, "nonce": {nonce}, "w_status_N": {b(st.Drain)}, "w_status_S": {b(st.Stop)}}
	if st.HCFail {
		form.Set("w_status_C", "1")
	}
	req, err := http.NewRequestWithContext(ctx, "POST", m.url(nil), strings.NewReader(form.Encode()))
	if err != nil {
		return Worker{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	m.referer(req)
	resp, err := m.client().Do(req)
	if err != nil {
		return Worker{}, fmt.Errorf("balancer-manager on %s: set %s: %w", m.Host, w, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return Worker{}, fmt.Errorf("balancer-manager on %s: set %s: answered %d", m.Host, w, resp.StatusCode)
	}
	ws, _, err := m.Workers(ctx, name)
	if err != nil {
		return Worker{}, err
	}
	for _, x := range ws {
		if x.Name == w {
			if x.flag("Drn") != st.Drain || x.flag("Stop") != st.Stop {
				return x, fmt.Errorf("balancer-manager on %s: %s is %q after setting drain=%v stop=%v: the change was not taken", m.Host, w, x.Status, st.Drain, st.Stop)
			}
			return x, nil
		}
	}
	return Worker{}, fmt.Errorf("balancer-manager on %s: balancer://%s has no member %s", m.Host, name, w)
}
