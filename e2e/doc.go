// Package e2e owns the end-to-end tests: the test lab's self-test and frontdoor's rollouts on the
// lab's real hosts (real sshd, Apache httpd and Tomcat), driven through the built binary. It has
// no code of its own beyond the tests.
package e2e
