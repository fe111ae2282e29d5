package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/sftp"
	xssh "golang.org/x/crypto/ssh"
)

// testServer is an in-process SSH server on loopback for the transport's own tests: public-key
// login, "exec" answered with exit status 0, and direct-tcpip (so it can be a ProxyJump hop).
type testServer struct {
	addr string
	mu   sync.Mutex
	cfg  *xssh.ServerConfig
	ln   net.Listener
	// hangSFTP: sftp-server starts and never answers (a broken host).
	hangSFTP bool
}

func newHostKey(t *testing.T) xssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := xssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clientKey writes a fresh client key to a file and returns its path and public key.
func clientKey(t *testing.T) (string, xssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := xssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := xssh.NewSignerFromKey(priv)
	return p, s.PublicKey()
}

func startServer(t *testing.T, host xssh.Signer, client xssh.PublicKey) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{addr: ln.Addr().String(), ln: ln}
	s.setHostKey(host, client)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(nc)
		}
	}()
	return s
}

// setHostKey changes the server's host key (a reinstalled host, or an attacker in the middle).
func (s *testServer) setHostKey(host xssh.Signer, client xssh.PublicKey) {
	cfg := &xssh.ServerConfig{PublicKeyCallback: func(_ xssh.ConnMetadata, k xssh.PublicKey) (*xssh.Permissions, error) {
		if string(k.Marshal()) == string(client.Marshal()) {
			return nil, nil
		}
		return nil, io.EOF
	}}
	cfg.AddHostKey(host)
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
}

func (s *testServer) port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (s *testServer) serve(nc net.Conn) {
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	_, chans, reqs, err := xssh.NewServerConn(nc, cfg)
	if err != nil {
		nc.Close()
		return
	}
	go xssh.DiscardRequests(reqs)
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			ch, creqs, err := nch.Accept()
			if err != nil {
				continue
			}
			go func() {
				for r := range creqs {
					if r.Type != "exec" {
						r.Reply(false, nil)
						continue
					}
					r.Reply(true, nil)
					var cmd struct{ Command string }
					xssh.Unmarshal(r.Payload, &cmd)
					switch {
					case strings.Contains(cmd.Command, "sftp-server") && s.hangSFTP:
						go xssh.DiscardRequests(creqs)
						io.Copy(io.Discard, ch) // reads the client's init, never answers
						return
					case strings.Contains(cmd.Command, "sftp-server"):
						go xssh.DiscardRequests(creqs)
						if srv, err := sftp.NewServer(ch); err == nil {
							srv.Serve()
						}
						ch.Close()
						return
					case cmd.Command == "flood":
						buf := make([]byte, 32<<10)
						for {
							if _, err := ch.Write(buf); err != nil {
								return
							}
						}
					}
					io.WriteString(ch, "ok\n")
					ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, 0))
					ch.Close()
					return
				}
			}()
		case "direct-tcpip":
			var p struct {
				Host     string
				Port     uint32
				OrigHost string
				OrigPort uint32
			}
			if err := xssh.Unmarshal(nch.ExtraData(), &p); err != nil {
				nch.Reject(xssh.ConnectionFailed, "bad request")
				continue
			}
			target, err := net.Dial("tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
			if err != nil {
				nch.Reject(xssh.ConnectionFailed, err.Error())
				continue
			}
			ch, creqs, err := nch.Accept()
			if err != nil {
				target.Close()
				continue
			}
			go xssh.DiscardRequests(creqs)
			go func() { io.Copy(ch, target); ch.CloseWrite() }()
			go func() { io.Copy(target, ch); target.Close() }()
		default:
			nch.Reject(xssh.UnknownChannelType, "no")
		}
	}
}
