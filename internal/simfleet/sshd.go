package simfleet

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"regexp"
	"time"

	"github.com/pkg/sftp"
	xssh "golang.org/x/crypto/ssh"

	"github.com/frontdoor-dev/frontdoor/target"
)

// sftpServerRe is how frontdoor starts a host's sftp-server itself (ssh/files.go), as root.
var sftpServerRe = regexp.MustCompile(`^'?/\S*sftp-server'? -u 077$`)

func (f *Fleet) delay() {
	if f.opt.Latency > 0 {
		time.Sleep(f.opt.Latency)
	}
}

// serveConn is one SSH connection: sessions (exec, the sftp subsystem) and direct-tcpip to the
// host's Apache.
func (f *Fleet) serveConn(h *Host, c net.Conn, cfg *xssh.ServerConfig) {
	defer c.Close()
	f.delay()
	sc, chans, reqs, err := xssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go xssh.DiscardRequests(reqs)
	conn := h.Mem.Conn()
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			go f.session(conn, ch, creqs)
		case "direct-tcpip":
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			go xssh.DiscardRequests(creqs)
			go func() {
				defer ch.Close()
				up, err := conn.Forward(f.ctx, "")
				if err != nil {
					return
				}
				defer up.Close()
				go func() { io.Copy(up, ch); up.(*net.TCPConn).CloseWrite() }()
				io.Copy(ch, up)
			}()
		default:
			nc.Reject(xssh.UnknownChannelType, "not served by this emulated host")
		}
	}
}

// session answers one session channel's first exec or subsystem request.
func (f *Fleet) session(conn target.Conn, ch xssh.Channel, reqs <-chan *xssh.Request) {
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Cmd string }
			if err := xssh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				return
			}
			req.Reply(true, nil)
			go xssh.DiscardRequests(reqs)
			if sftpServerRe.MatchString(p.Cmd) {
				f.sftp(conn, ch)
				exit(ch, 0)
				return
			}
			f.exec(conn, ch, p.Cmd)
			return
		case "subsystem":
			var p struct{ Name string }
			if xssh.Unmarshal(req.Payload, &p); p.Name != "sftp" {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			go xssh.DiscardRequests(reqs)
			f.sftp(conn, ch)
			exit(ch, 0)
			return
		default: // env, pty-req, ...: refused as an sshd without them would
			req.Reply(false, nil)
		}
	}
}

// exec runs cmd in the emulated host's shell: its stdout, stderr and exit status as sshd sends them.
func (f *Fleet) exec(conn target.Conn, ch xssh.Channel, cmd string) {
	// frontdoor sends stdin only to sudo (a password) and never to these commands; drain it.
	go io.Copy(io.Discard, ch)
	f.delay()
	out, err := conn.Run(f.ctx, cmd, nil)
	ch.Write(out)
	status := 0
	if err != nil {
		status = 1
		var ce *target.CommandError
		if errors.As(err, &ce) {
			ch.Write([]byte(ce.Stdout))
			ch.Stderr().Write([]byte(ce.Stderr))
		} else {
			ch.Stderr().Write([]byte(err.Error()))
		}
	}
	exit(ch, status)
}

func exit(ch xssh.Channel, status int) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(status))
	ch.SendRequest("exit-status", false, b[:])
}

func (f *Fleet) sftp(conn target.Conn, ch xssh.Channel) {
	hs := newFiles(conn, f)
	srv := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: hs, FilePut: hs, FileCmd: hs, FileList: hs})
	srv.Serve()
	srv.Close()
}
