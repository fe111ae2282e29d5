package apache

import (
	"fmt"
	"strings"
)

// Backend is one application behind the VirtualHost.
type Backend struct {
	Name        string // "jira"
	ContextPath string // "" or "/jira"
	Port        int    // the app's HTTP Connector port on the host
}

// VHost is one name-based virtual host.
type VHost struct {
	ServerName string
	Port       int
	RemoteIP   bool     // mod_remoteip with RemoteIPHeader X-Forwarded-For (the guide's Part B step 5)
	Directives []string // the admin's own extra lines, added at the end of the VirtualHost
	Backends   []Backend
}

// Render writes the VirtualHost as the guide gives it. Backends with a context path come first
// so that a "/" backend cannot shadow them.
func (v VHost) Render() string {
	var b strings.Builder
	b.WriteString("# Managed by frontdoor: Apache reverse proxy for Atlassian applications, as in Atlassian's guide\n")
	b.WriteString("# \"Proxying Atlassian server applications with Apache HTTP Server\". The next frontdoor apply\n")
	b.WriteString("# overwrites changes made here: change the playbook instead.\n")
	fmt.Fprintf(&b, "<VirtualHost *:%d>\n", v.Port)
	fmt.Fprintf(&b, "    ServerName %s\n\n", v.ServerName)
	b.WriteString("    ProxyRequests Off\n    ProxyVia Off\n\n")
	b.WriteString("    <Proxy *>\n        Require all granted\n    </Proxy>\n\n")
	ordered := make([]Backend, 0, len(v.Backends))
	for _, be := range v.Backends {
		if be.ContextPath != "" {
			ordered = append(ordered, be)
		}
	}
	for _, be := range v.Backends {
		if be.ContextPath == "" {
			ordered = append(ordered, be)
		}
	}
	for _, be := range ordered {
		fmt.Fprintf(&b, "    # %s\n", be.Name)
		if be.ContextPath == "" {
			fmt.Fprintf(&b, "    ProxyPass / http://127.0.0.1:%d/\n", be.Port)
			fmt.Fprintf(&b, "    ProxyPassReverse / http://127.0.0.1:%d/\n", be.Port)
		} else {
			fmt.Fprintf(&b, "    ProxyPass %s http://127.0.0.1:%d%s\n", be.ContextPath, be.Port, be.ContextPath)
			fmt.Fprintf(&b, "    ProxyPassReverse %s http://127.0.0.1:%d%s\n", be.ContextPath, be.Port, be.ContextPath)
		}
	}
	if v.RemoteIP {
		b.WriteString("\n    RemoteIPHeader X-Forwarded-For\n")
	}
	if len(v.Directives) > 0 {
		b.WriteString("\n    # from the playbook's apache.directives\n")
		for _, d := range v.Directives {
			fmt.Fprintf(&b, "    %s\n", d)
		}
	}
	b.WriteString("</VirtualHost>\n")
	return b.String()
}
