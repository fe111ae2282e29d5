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
		path, target := be.ContextPath, fmt.Sprintf("http://127.0.0.1:%d%s", be.Port, be.ContextPath)
		if path == "" || be.TrailingSlash {
			target += "/"
		}
		if path == "" {
			path = "/"
		}
		fmt.Fprintf(&b, "    ProxyPass %s %s\n    ProxyPassReverse %s %s\n", path, target, path, target)
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
