package playbooks

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// sshConfigFile is an OpenSSH client configuration, read with kevinburke/ssh_config.
type sshConfigFile struct {
	path string
	cfg  *ssh_config.Config
}

type sshSettings struct {
	hostName, user, identity, proxyJump string
	port                                int
	connectTimeout, serverAlive         time.Duration
	identitiesOnly                      bool
}

// loadSSHConfig reads path; with no path, $FRONTDOOR_SSH_CONFIG or ~/.ssh/config if it exists
// (none is fine).
func loadSSHConfig(path string) (*sshConfigFile, error) {
	explicit := path != ""
	if path == "" {
		path = os.Getenv("FRONTDOOR_SSH_CONFIG")
		explicit = path != ""
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil
		}
		path = filepath.Join(home, ".ssh", "config")
	}
	f, err := os.Open(path)
	if err != nil {
		if !explicit && os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("ssh_config: %w", err)
	}
	defer f.Close()
	cfg, err := ssh_config.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &sshConfigFile{path: path, cfg: cfg}, nil
}

// lookup returns what the configuration says for alias (first match wins, as in OpenSSH).
func (c *sshConfigFile) lookup(alias string) sshSettings {
	get := func(k string) string {
		v, _ := c.cfg.Get(alias, k)
		return strings.TrimSpace(v)
	}
	s := sshSettings{hostName: get("HostName"), user: get("User"), proxyJump: get("ProxyJump")}
	if s.hostName != "" {
		s.hostName = strings.ReplaceAll(s.hostName, "%h", alias)
	}
	if p, err := strconv.Atoi(get("Port")); err == nil {
		s.port = p
	}
	// Seconds, as OpenSSH reads them; 0 or "none" leave frontdoor's own values.
	if n, err := strconv.Atoi(get("ConnectTimeout")); err == nil && n > 0 {
		s.connectTimeout = time.Duration(n) * time.Second
	}
	if n, err := strconv.Atoi(get("ServerAliveInterval")); err == nil && n > 0 {
		s.serverAlive = time.Duration(n) * time.Second
	}
	s.identitiesOnly = strings.EqualFold(get("IdentitiesOnly"), "yes")
	if id := get("IdentityFile"); id != "" {
		if strings.HasPrefix(id, "~/") {
			if home, err := os.UserHomeDir(); err == nil {
				id = filepath.Join(home, id[2:])
			}
		}
		s.identity = id
	}
	return s
}
