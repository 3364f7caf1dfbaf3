// Package pgecho is a PostgreSQL server for tests, on loopback, that asks
// for a clear-text password, keeps it, and refuses it with a message that
// quotes it, as a careless server or proxy might: a test shows with it that
// a connector sends the password, and that no error, log or file of
// datalab repeats it.
package pgecho

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running echoing server.
type Server struct {
	ln   net.Listener
	mu   sync.Mutex
	got  []string
	done sync.WaitGroup
}

// New starts a Server on a free port of 127.0.0.1; it stops when the test
// ends.
func New(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln}
	s.done.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.done.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.done.Wait()
	})
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Passwords returns the passwords received, in order.
func (s *Server) Passwords() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for {
		// Startup packet: length, then protocol or request code.
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, r, int64(binary.BigEndian.Uint32(hdr[:4]))-8); err != nil {
			return
		}
		if code := binary.BigEndian.Uint32(hdr[4:]); code == 80877103 || code == 80877104 {
			c.Write([]byte{'N'}) // no SSL, no GSS encryption
			continue
		}
		break
	}
	c.Write([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 3}) // AuthenticationCleartextPassword
	if typ, err := r.ReadByte(); err != nil || typ != 'p' {
		return
	}
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return
	}
	body := make([]byte, binary.BigEndian.Uint32(lb[:])-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return
	}
	pw := strings.TrimRight(string(body), "\x00")
	s.mu.Lock()
	s.got = append(s.got, pw)
	s.mu.Unlock()
	var msg []byte
	for _, f := range []string{"SFATAL", "VFATAL", "C28P01", "Mpassword authentication failed: got \"" + pw + "\""} {
		msg = append(append(msg, f...), 0)
	}
	msg = append(msg, 0)
	out := []byte{'E', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(len(msg)+4))
	c.Write(append(out, msg...))
}
