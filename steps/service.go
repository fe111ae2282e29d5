package steps

import (
	"context"
	"fmt"
)

// ServiceKind says how a service follows configuration changes.
type ServiceKind int

const (
	// App is an Atlassian application: stopped before its configuration changes (the guide's
	// step 1), started after, and waited for.
	App ServiceKind = iota
	// Proxy is httpd: its configuration is validated, then it is restarted.
	Proxy
)

// Service is a daemon that steps trigger. Commands run as root on the host.
type Service struct {
	Name       string
	Kind       ServiceKind
	WasRunning bool   // from the facts
	Validate   string // checks the new configuration before any restart (configtest and more)
	Configtest string // checks the restored configuration's syntax before the rollback's restart
	Start      string
	Stop       string
	Restart    string // empty: Stop then Start
	Ready      string // exits 0 once the service answers; polled by the command itself
}

func (s *Service) run(ctx context.Context, h Host, what, cmd string) error {
	if cmd == "" {
		return nil
	}
	if _, err := h.Run(ctx, cmd, nil); err != nil {
		return fmt.Errorf("%s %s: %w", what, s.Name, err)
	}
	return nil
}

func (s *Service) restart(ctx context.Context, h Host) error {
	if s.Restart != "" {
		return s.run(ctx, h, "restart", s.Restart)
	}
	if err := s.run(ctx, h, "stop", s.Stop); err != nil {
		return err
	}
	return s.run(ctx, h, "start", s.Start)
}

// restore returns the service to the state it was in before the apply.
func (s *Service) restore(ctx context.Context, h Host) error {
	if !s.WasRunning {
		return s.run(ctx, h, "stop", s.Stop)
	}
	if err := s.run(ctx, h, "check the restored configuration of", s.Configtest); err != nil {
		return err
	}
	if err := s.restart(ctx, h); err != nil {
		return err
	}
	return s.run(ctx, h, "wait for", s.Ready)
}

// HTTPReady is a command that waits up to seconds for any HTTP answer on 127.0.0.1:port (curl,
// or a TCP connect where curl is missing). Tomcat binds its Connector only after the webapp is
// deployed, so an answer means the app is up.
func HTTPReady(port int, name string, seconds int) string {
	return fmt.Sprintf(`i=0; while [ $i -lt %[3]d ]; do
  if command -v curl >/dev/null 2>&1; then c=$(curl -s -o /dev/null -w '%%{http_code}' --max-time 3 http://127.0.0.1:%[1]d/ 2>/dev/null); [ -n "$c" ] && [ "$c" != 000 ] && exit 0
  elif (exec 3<>/dev/tcp/127.0.0.1/%[1]d) 2>/dev/null; then exit 0; fi
  i=$((i+1)); sleep 0.5; done; echo "%[2]s does not answer on port %[1]d after %[4]d s" >&2; exit 1`, port, name, seconds*2, seconds)
}
