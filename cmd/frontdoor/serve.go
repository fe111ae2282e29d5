package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/frontdoor-dev/frontdoor/report"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "a read-only local web view of the ledger: the runs, filtered, and each run's page",
		Description: "Serves the ledger's runs (filter by status, host, playbook and date) and each run as the page frontdoor report\n" +
			"writes. Read-only: it answers GET and HEAD only and has no action that changes anything. It listens on loopback\n" +
			"and answers only to loopback names; the ledger holds configuration diffs and the view has no login, so another\n" +
			"address needs --allow-remote. Ctrl-C stops it.",
		Flags: []cli.Flag{ledgerFlag(),
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8765", Usage: "listen on `ADDR` (host:port)"},
			&cli.BoolFlag{Name: "allow-remote", Usage: "allow a --listen address other machines can reach (no login: anyone who reaches it reads the ledger)"}},
		Action: func(c *cli.Context) error {
			listen := c.String("listen")
			loop := report.IsLoopback(listen)
			if !loop && !c.Bool("allow-remote") {
				return &exitErr{exitError, fmt.Errorf("--listen %s is not a loopback address: the view has no login and the ledger holds configuration diffs; listen on 127.0.0.1, or add --allow-remote if others may read it", listen)}
			}
			led, err := openLedger(c)
			if err != nil {
				return asExit(err)
			}
			defer led.Close()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return &exitErr{exitError, fmt.Errorf("--listen %s: %w", listen, err)}
			}
			s := &report.Server{Ledger: led, Opts: reportOptions()}
			if loop {
				s.AllowedHosts = report.LoopbackHosts(ln.Addr())
			}
			srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-c.Context.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				srv.Shutdown(ctx)
			}()
			fmt.Fprintf(c.App.ErrWriter, "serving the ledger read-only at http://%s/ (Ctrl-C stops)\n", ln.Addr())
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return asExit(err)
			}
			return nil
		},
	}
}
