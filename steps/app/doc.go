// Package app owns the Atlassian applications' side of a rollout (the guide's Part A): how each
// product is configured for the proxy (for Jira: Tomcat's server.xml Context path and HTTP
// Connector), and how it is stopped, started and waited for.
package app
