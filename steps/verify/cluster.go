package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Sticky asks the base URL through a balancer without a cookie and wants the route cookie set to
// one of routes (the balancer chose a node and pins the client to it); then asks again with that
// cookie and wants no other route (the pin is honoured). It returns the chain's lines.
func Sticky(ctx context.Context, t Target, routes []string) ([]string, error) {
	t.Route = ""
	req, err := http.NewRequestWithContext(ctx, "GET", t.BaseURL+"/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client(t).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s through the balancer at %s: GET %s: %w", t.App, t.Address, req.URL, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, &StatusError{App: t.App, URL: req.URL.String(), Address: t.Address, Code: resp.StatusCode}
	}
	got := ""
	for _, c := range resp.Cookies() {
		if c.Name == t.RouteCookie {
			got = strings.TrimPrefix(c.Value, ".")
		}
	}
	if !slices.Contains(routes, got) {
		return nil, fmt.Errorf("%s: GET %s through the balancer set no %s cookie naming a node (got %q, nodes %s): sticky sessions do not work, check mod_headers' Set-Cookie in the VirtualHost",
			t.App, req.URL, t.RouteCookie, got, strings.Join(routes, ", "))
	}
	lines := []string{fmt.Sprintf("%s -> %d, Set-Cookie %s=.%s (sticky)", req.URL, resp.StatusCode, t.RouteCookie, got)}
	t.Route = got
	line, err := Status(ctx, t)
	if err != nil {
		return lines, err
	}
	return append(lines, line+" (honoured)"), nil
}

// Status asks the app's /status (through t, pinned when t.Route is set) and wants 200 with
// {"state":"RUNNING"}: what Jira, Confluence and Bitbucket answer once they serve requests.
func Status(ctx context.Context, t Target) (string, error) {
	u := t.BaseURL + "/status"
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return "", err
	}
	resp, err := client(t).Do(req)
	if err != nil {
		return "", fmt.Errorf("%s at %s: GET %s: %w", t.App, t.Address, u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != 200 {
		return "", &StatusError{App: t.App, URL: u, Address: t.Address, Code: resp.StatusCode}
	}
	var st struct {
		State string `json:"state"`
	}
	if json.Unmarshal(body, &st) != nil || st.State != "RUNNING" {
		// STARTING, FIRST_RUN, MAINTENANCE...: answered, not serving yet. Retried as a 503 is.
		return "", &StatusError{App: t.App + " (state " + strings.TrimSpace(string(body)) + ")", URL: u, Address: t.Address, Code: 503}
	}
	line := fmt.Sprintf("%s -> 200 RUNNING", u)
	if t.Route != "" {
		line = fmt.Sprintf("%s [node %s] -> 200 RUNNING", u, t.Route)
	}
	return line, nil
}
