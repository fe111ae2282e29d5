package playbooks

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// hostVar in an app's url is replaced by each inventory host's name.
const hostVar = "{{host}}"

// hostSentinel stands for hostVar while the URL is parsed (url.Parse refuses braces in a host).
const hostSentinel = "fd0hostvar0fd"

// publicURL is an app's url as parsed once at load: Host and ContextPath may still hold hostVar.
type publicURL struct {
	Scheme, Host string
	Port         int
	ContextPath  string
}

// parsePublic parses an app's url (with hostVar in it) once, and checks it.
func parsePublic(raw string) (publicURL, error) {
	scheme, host, port, ctx, err := parseURL(strings.ReplaceAll(raw, hostVar, hostSentinel))
	if err != nil {
		return publicURL{}, err
	}
	p := publicURL{Scheme: scheme, Host: strings.ReplaceAll(host, hostSentinel, hostVar), Port: port,
		ContextPath: strings.ReplaceAll(ctx, hostSentinel, hostVar)}
	return p, p.check("host")
}

// check validates the URL as resolved for one inventory host name.
func (p publicURL) check(host string) error {
	name := strings.ReplaceAll(p.Host, hostVar, host)
	ctx := strings.ReplaceAll(p.ContextPath, hostVar, host)
	if !hostnameR.MatchString(name) {
		return fmt.Errorf("proxyName %q must be a bare host name", name)
	}
	if ctx != "" && !contextR.MatchString(ctx) {
		return fmt.Errorf("context path %q: use /name segments of letters, digits, . _ ~ -", ctx)
	}
	return nil
}

// Public is an app's public URL on one host, split as Tomcat and Apache need it.
type Public struct {
	BaseURL     string // without trailing slash
	Scheme      string
	Host        string
	Port        int
	ContextPath string
}

// PublicFor resolves an app's URL for one inventory host (checked by CheckHost).
func (a App) PublicFor(host string) Public {
	p := a.public
	name := strings.ReplaceAll(p.Host, hostVar, host)
	ctx := strings.ReplaceAll(p.ContextPath, hostVar, host)
	base := p.Scheme + "://" + name
	if !(p.Scheme == "http" && p.Port == 80) && !(p.Scheme == "https" && p.Port == 443) {
		base += fmt.Sprintf(":%d", p.Port)
	}
	return Public{BaseURL: base + ctx, Scheme: p.Scheme, Host: name, Port: p.Port, ContextPath: ctx}
}

// CheckHost refuses an inventory host whose name, put into an app's url, does not give a valid
// public host name and context path: the name reaches Apache's configuration and commands, so
// "j$(id)" or "a b" must stop here, before anything is gathered or changed.
func (pb *Playbook) CheckHost(host string) error {
	for _, a := range pb.Apps {
		if err := a.public.check(host); err != nil {
			return fmt.Errorf("%s: app %s, url %s: %w", host, a.Name, a.URL, err)
		}
	}
	return nil
}

// parseURL splits a public URL into scheme, host name, port (explicit or the scheme's default)
// and context path ("" or "/path", never a trailing slash).
func parseURL(raw string) (scheme, host string, port int, ctxPath string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", 0, "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", 0, "", fmt.Errorf("scheme must be http or https, not %q", u.Scheme)
	}
	if u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", 0, "", fmt.Errorf("must be scheme://host[:port][/context], like http://jira.example.com or http://example.com/jira")
	}
	port = 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return "", "", 0, "", fmt.Errorf("port %q out of range 1..65535", p)
		}
	}
	ctxPath = strings.TrimSuffix(u.Path, "/")
	if strings.Contains(ctxPath, "//") {
		return "", "", 0, "", fmt.Errorf("context path %q has an empty segment", u.Path)
	}
	return u.Scheme, u.Hostname(), port, ctxPath, nil
}
