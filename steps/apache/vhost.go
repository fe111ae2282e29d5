package apache

import (
	"fmt"
	"strings"
)

// Backend is one application behind a VirtualHost.
type Backend struct {
	Name        string // "jira"
	ContextPath string // "" or "/jira"
	Port        int    // the app's HTTP port on the host
	// SynchronyPort, for Confluence 6.0+: /synchrony is proxied there, WebSocket included.
	SynchronyPort int
	// TrailingSlash adds "/" to the backend URL of ProxyPass and ProxyPassReverse: the guide's fix
	// for DNS lookup failures in Apache's log.
	TrailingSlash bool
	// Balancer, when set, proxies to a cluster's nodes (mod_proxy_balancer) instead of the app on
	// this host: Port is then unused.
	Balancer *Balancer
}

// Balancer is a Data Center cluster behind mod_proxy_balancer: sticky sessions by the ROUTEID
// cookie that mod_headers sets (as Atlassian's Data Center docs do it, so nothing changes inside
// the app), mod_proxy_hcheck asking each node's /status, and balancer-manager for localhost only.
type Balancer struct {
	Name     string // balancer://Name
	LBMethod string // byrequests, bytraffic, bybusyness
	Members  []Member
}

// Member is one node of a balancer.
type Member struct {
	URL   string // http://address:port, no path
	Route string // route=, the value after the "." in the ROUTEID cookie
}

// Balancing says whether any backend of the vhost is a balancer.
func (v VHost) Balancing() bool {
	for _, be := range v.Backends {
		if be.Balancer != nil {
			return true
		}
	}
	return false
}

// StickyCookie is the cookie that pins a client to a node: "ROUTEID=.<route>".
const StickyCookie = "ROUTEID"

// ManagerPath is balancer-manager's path on a balancing vhost (Require local: reached over SSH).
const ManagerPath = "/balancer-manager"

// HCExpr names the health check's condition: a 200 whose body says RUNNING (Jira, Confluence and
// Bitbucket answer /status with {"state":"RUNNING"} once they serve; STARTING or an error page
// keeps the node out).
const HCExpr = "frontdoor_up" // at most 15 characters (mod_proxy_hcheck)

// renderBalancer writes the <Proxy balancer://> section of a balancing backend.
func renderBalancer(b *strings.Builder, be Backend) {
	bl := be.Balancer
	fmt.Fprintf(b, "    # %s: a cluster of %d node(s) behind mod_proxy_balancer; ROUTEID pins a client to its node\n", be.Name, len(bl.Members))
	fmt.Fprintf(b, "    <Proxy balancer://%s>\n", bl.Name)
	for _, m := range bl.Members {
		fmt.Fprintf(b, "        BalancerMember %s route=%s hcmethod=GET hcuri=%s/status hcexpr=%s hcinterval=5 hcpasses=1 hcfails=1\n",
			m.URL, m.Route, be.ContextPath, HCExpr)
	}
	fmt.Fprintf(b, "        ProxySet lbmethod=%s stickysession=%s\n", bl.LBMethod, StickyCookie)
	b.WriteString("    </Proxy>\n")
}

// VHost is one name-based virtual host.
type VHost struct {
	ServerName string
	Port       int
	RemoteIP   bool     // mod_remoteip with RemoteIPHeader X-Forwarded-For (the guide's Part B step 5)
	Directives []string // the admin's own extra lines, added at the end of the VirtualHost
	Backends   []Backend
	// Apache22 writes the Apache 2.2 access syntax (Order/Allow) instead of Require.
	Apache22 bool
	// Listen puts "Listen <Port>" before the VirtualHost: for a port no other enabled configuration
	// listens on (two Listen lines for one port pass configtest but stop Apache from starting).
	Listen bool
	// TLS, when set, makes it an https VirtualHost (mod_ssl) with a port-80 redirect if asked.
	TLS *TLS
}

// TLS is an https VirtualHost's certificate, as files on the host, and what goes with it.
type TLS struct {
	CertFile  string // the leaf, then the intermediates (Apache 2.4.8+ reads the chain from it)
	KeyFile   string
	ChainFile string // only for a chain the admin keeps in its own file on the host
	Redirect  bool   // a *:80 VirtualHost for the name that redirects to the https URL
	// ListenRedirect adds "Listen 80" for the redirect: nothing else listens on 80.
	ListenRedirect bool
	HSTS           int // Strict-Transport-Security max-age, 0: none
	// ACME, instead of the files: mod_md obtains and renews the certificate.
	ACME *ACME
}

// ACME is what mod_md needs for a name: the CA's directory, the account's contact, and the file
// (on the host) of roots for the CA's own https, if it is a private one.
type ACME struct {
	Directory, Email, CAFile string
	Store                    string // mod_md's store on the host (MDStore)
	// TLSALPN validates over a TLS handshake on port 443 (tls-alpn-01) instead of a file on 80.
	TLSALPN bool
}

// HTTPSURL is the https base the redirect sends plain http to.
func (v VHost) HTTPSURL() string {
	if v.Port == 443 {
		return "https://" + v.ServerName
	}
	return fmt.Sprintf("https://%s:%d", v.ServerName, v.Port)
}

// Synchrony reports whether a backend needs proxy_wstunnel and rewrite.
func (v VHost) Synchrony() bool {
	for _, be := range v.Backends {
		if be.SynchronyPort != 0 {
			return true
		}
	}
	return false
}

// Render writes the VirtualHost as the guide gives it. Synchrony's directives come first and in
// the guide's exact order; then backends with a context path, then a "/" backend, so that "/"
// cannot shadow them.
func (v VHost) Render() string {
	var b strings.Builder
	b.WriteString("# Managed by frontdoor: Apache reverse proxy for Atlassian applications, as in Atlassian's guide\n")
	b.WriteString("# \"Proxying Atlassian server applications with Apache HTTP Server\". The next frontdoor apply\n")
	b.WriteString("# overwrites changes made here: change the playbook instead.\n")
	if v.Listen {
		if v.TLS != nil && v.Port != 443 {
			fmt.Fprintf(&b, "Listen %d https\n", v.Port)
		} else {
			fmt.Fprintf(&b, "Listen %d\n", v.Port)
		}
	}
	if t := v.TLS; t != nil && t.ACME != nil {
		fmt.Fprintf(&b, "# mod_md obtains and renews the certificate of %s over ACME (the VirtualHost names no file).\n", v.ServerName)
		fmt.Fprintf(&b, "MDStoreDir %s\n", t.ACME.Store)
		if t.ACME.CAFile != "" {
			fmt.Fprintf(&b, "MDCACertificateFile %s\n", t.ACME.CAFile)
		}
		fmt.Fprintf(&b, "<MDomain %s>\n    MDCertificateAuthority %s\n    MDContactEmail %s\n    MDCertificateAgreement accepted\n",
			v.ServerName, t.ACME.Directory, t.ACME.Email)
		if t.ACME.TLSALPN {
			b.WriteString("    MDCAChallenges tls-alpn-01\n")
		}
		b.WriteString("</MDomain>\n")
	}
	fmt.Fprintf(&b, "<VirtualHost *:%d>\n", v.Port)
	fmt.Fprintf(&b, "    ServerName %s\n\n", v.ServerName)
	if t := v.TLS; t != nil {
		b.WriteString("    SSLEngine on\n")
		if t.ACME != nil && t.ACME.TLSALPN { // mod_md answers the CA's handshake for this name
			b.WriteString("    Protocols http/1.1 acme-tls/1\n")
		}
		if t.ACME == nil {
			fmt.Fprintf(&b, "    SSLCertificateFile %s\n    SSLCertificateKeyFile %s\n", t.CertFile, t.KeyFile)
		}
		if t.ChainFile != "" {
			fmt.Fprintf(&b, "    SSLCertificateChainFile %s\n", t.ChainFile)
		}
		if t.HSTS > 0 {
			fmt.Fprintf(&b, "    Header always set Strict-Transport-Security \"max-age=%d\"\n", t.HSTS)
		}
		b.WriteString("\n")
	}
	b.WriteString("    ProxyRequests Off\n    ProxyVia Off\n\n")
	if v.Apache22 {
		b.WriteString("    <Proxy *>\n        Order Deny,Allow\n        Allow from all\n    </Proxy>\n\n")
	} else {
		b.WriteString("    <Proxy *>\n        Require all granted\n    </Proxy>\n\n")
	}
	if v.Balancing() {
		fmt.Fprintf(&b, "    ProxyHCExpr %s {%%{REQUEST_STATUS} == 200 && hc('body') =~ /RUNNING/}\n", HCExpr)
		for _, be := range v.Backends {
			if be.Balancer != nil {
				renderBalancer(&b, be)
			}
		}
		fmt.Fprintf(&b, "    ProxyPass %s !\n\n", ManagerPath) // before any ProxyPass /: the first match wins
	}
	for _, be := range v.Backends {
		if be.SynchronyPort == 0 {
			continue
		}
		fmt.Fprintf(&b, "    # %s: Synchrony (collaborative editing), WebSocket included\n", be.Name)
		fmt.Fprintf(&b, "    ProxyPass /synchrony http://127.0.0.1:%d/synchrony\n", be.SynchronyPort)
		b.WriteString("    <Location /synchrony>\n        Require all granted\n        RewriteEngine on\n")
		b.WriteString("        RewriteCond %{HTTP:UPGRADE} ^WebSocket$ [NC]\n        RewriteCond %{HTTP:CONNECTION} Upgrade$ [NC]\n")
		fmt.Fprintf(&b, "        RewriteRule .* ws://127.0.0.1:%d%%{REQUEST_URI} [P]\n    </Location>\n\n", be.SynchronyPort)
	}
	ordered := make([]Backend, 0, len(v.Backends))
	for _, root := range []bool{false, true} {
		for _, be := range v.Backends {
			if (be.ContextPath == "") == root {
				ordered = append(ordered, be)
			}
		}
	}
	for _, be := range ordered {
		fmt.Fprintf(&b, "    # %s\n", be.Name)
		origin := fmt.Sprintf("http://127.0.0.1:%d", be.Port)
		if be.Balancer != nil {
			origin = "balancer://" + be.Balancer.Name
		}
		path, target := be.ContextPath, origin+be.ContextPath
		if path == "" || be.TrailingSlash {
			target += "/"
		}
		if path == "" {
			path = "/"
		}
		fmt.Fprintf(&b, "    ProxyPass %s %s\n    ProxyPassReverse %s %s\n", path, target, path, target)
		if be.Balancer != nil {
			// Set only when the balancer chose (or changed) the node: a client keeps its node.
			flags := "; HttpOnly" // no script needs the route
			if v.TLS != nil {
				flags += "; Secure"
			}
			set := fmt.Sprintf("Header add Set-Cookie \"%s=.%%{BALANCER_WORKER_ROUTE}e; path=%s%s\" env=BALANCER_ROUTE_CHANGED", StickyCookie, path, flags)
			if be.ContextPath == "" {
				fmt.Fprintf(&b, "    %s\n", set)
			} else {
				fmt.Fprintf(&b, "    <Location %s>\n        %s\n    </Location>\n", path, set)
			}
		}
		if be.SynchronyPort != 0 {
			fmt.Fprintf(&b, "    <Location %s>\n        Require all granted\n    </Location>\n", path)
		}
		b.WriteString("\n")
	}
	if v.RemoteIP {
		b.WriteString("    RemoteIPHeader X-Forwarded-For\n")
	}
	if len(v.Directives) > 0 {
		b.WriteString("    # from the playbook's apache.directives\n")
		for _, d := range v.Directives {
			fmt.Fprintf(&b, "    %s\n", d)
		}
	}
	if v.Balancing() {
		// Last, so no <Location> above (a "/" one granting all) can open it, and on the
		// connection's own address, which mod_remoteip does not rewrite from X-Forwarded-For.
		b.WriteString("    # balancer-manager: for the balancer host itself only (frontdoor drains nodes through it over SSH)\n")
		fmt.Fprintf(&b, "    <Location %s>\n        SetHandler balancer-manager\n        Require expr \"%%{CONN_REMOTE_ADDR} -ipmatch '127.0.0.0/8' || %%{CONN_REMOTE_ADDR} == '::1'\"\n    </Location>\n", ManagerPath)
	}
	b.WriteString("</VirtualHost>\n")
	if t := v.TLS; t != nil && t.Redirect {
		b.WriteString("\n# Plain http on port 80 goes to the https URL.\n")
		if t.ListenRedirect {
			b.WriteString("Listen 80\n")
		}
		fmt.Fprintf(&b, "<VirtualHost *:80>\n    ServerName %s\n    Redirect permanent / %s/\n</VirtualHost>\n", v.ServerName, v.HTTPSURL())
	}
	return b.String()
}

// Site is the vhost's file name (without .conf): frontdoor-<name>, plus the port when not 80.
func (v VHost) Site() string {
	s := SitePrefix + v.ServerName
	if v.Port != 80 {
		s += fmt.Sprintf("-%d", v.Port)
	}
	return s
}
