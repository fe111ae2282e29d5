// Package ssh owns the transport to target hosts: an SSH connection per host with strict host-key
// checking (known_hosts via skeema/knownhosts; new keys only with an explicit opt-in, changed keys
// never), key-file and agent auth, keepalives and timeouts; commands as root through sudo (the
// password travels on stdin, never in argv); and file access over SFTP with atomic writes. When
// the login user is not root, SFTP runs as root by starting sftp-server under sudo on an ordinary
// session (sftp.NewClientPipe). Local runs the same operations on this machine. Both satisfy
// target.Host, and both count their round trips.
package ssh
