package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/frontdoor-dev/frontdoor/target"
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

// ReloadTrigger, after a service's name in a step's Notify ("httpd/reload"), asks for a reload
// of it rather than a restart.
const ReloadTrigger = "/reload"

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
	// Reload, if set, makes the service read changed files without a restart (httpd's graceful
	// reload keeps connections in flight: a renewed certificate must not cut WebSockets). Steps
	// ask for it by notifying Name + ReloadTrigger; any other change still restarts.
	Reload string
	Ready  string // exits 0 once the service answers; polled by the command itself
	// Settle, if set, runs after the apply restarts the service and must exit 0 (mod_md's wait
	// for its ACME certificate, which it obtains only once httpd runs the new configuration).
	Settle string
	// RestoreReady, if set, is Ready after a rollback: the service answers where it did before
	// (the new configuration's port may be gone with it).
	RestoreReady string
	// Why, if set, reads what the service logged (a few lines) when a start or restart fails:
	// "Job for apache2.service failed" alone does not say that a port was taken. It changes
	// nothing on the host and is not journaled.
	Why string
	// PortsFree, if set, exits 0 once no process listens on the ports the service needs, waiting
	// a bounded time. A restart that failed because a port was still held ("Address already in
	// use") waits for it, then starts once: an old httpd child finishing a request, or one its
	// init script did not wait for, lets go of the port a moment later.
	PortsFree string
}

func (s *Service) run(ctx context.Context, h target.Host, what, cmd string) error {
	if cmd == "" {
		return nil
	}
	if _, err := h.Run(ctx, cmd, nil); err != nil {
		if s.Why != "" && (what == "start" || what == "restart") {
			if out, werr := h.Run(ctx, s.Why, nil); werr == nil && len(bytes.TrimSpace(out)) > 0 {
				return fmt.Errorf("%s %s: %w; its log says:\n%s", what, s.Name, err, bytes.TrimSpace(out))
			}
		}
		return fmt.Errorf("%s %s: %w", what, s.Name, err)
	}
	return nil
}

func (s *Service) restart(ctx context.Context, h target.Host) error {
	err := s.restartOnce(ctx, h)
	if err == nil || s.PortsFree == "" || !strings.Contains(err.Error(), "Address already in use") {
		return err
	}
	if _, werr := h.Run(ctx, s.PortsFree, nil); werr != nil {
		return fmt.Errorf("%w\n(waited for the port to be free: %v)", err, werr)
	}
	if serr := s.run(ctx, h, "start", s.Start); serr != nil {
		return fmt.Errorf("%w\n(the port was free after that, and the start failed: %v)", err, serr)
	}
	return nil
}

func (s *Service) restartOnce(ctx context.Context, h target.Host) error {
	if s.Restart != "" {
		return s.run(ctx, h, "restart", s.Restart)
	}
	if err := s.run(ctx, h, "stop", s.Stop); err != nil {
		return err
	}
	return s.run(ctx, h, "start", s.Start)
}

// restore returns the service to the state it was in before the apply.
func (s *Service) restore(ctx context.Context, h target.Host) error {
	if !s.WasRunning {
		return s.run(ctx, h, "stop", s.Stop)
	}
	if err := s.run(ctx, h, "check the restored configuration of", s.Configtest); err != nil {
		return err
	}
	if s.Restart == "" && s.Kind == App {
		// An app that failed to stop during the apply may fail to stop again: what matters is
		// that it runs with the restored configuration, so a failed stop is only reported if the
		// start or the wait fails too (a stop that never happened left its old configuration
		// loaded, which is the restored one).
		stopErr := s.run(ctx, h, "stop", s.Stop)
		if err := s.run(ctx, h, "start", s.Start); err != nil {
			return errors.Join(stopErr, err)
		}
		if err := s.run(ctx, h, "wait for", s.Ready); err != nil {
			return errors.Join(stopErr, err)
		}
		return nil
	}
	if err := s.restart(ctx, h); err != nil {
		return err
	}
	ready := s.Ready
	if s.RestoreReady != "" {
		ready = s.RestoreReady
	}
	return s.run(ctx, h, "wait for", ready)
}
