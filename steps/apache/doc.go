// Package apache owns Apache httpd's side of a rollout: the VirtualHost of Atlassian's guide
// (Part B), the proxy modules, enabling the site, checking the configuration before any restart,
// and restarting httpd through whatever init the host has. It builds steps from the facts.
package apache
