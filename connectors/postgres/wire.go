package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// wireBuffer is the size of the buffer the connection is read into.
const wireBuffer = 256 << 10

// maxMessage is the largest message wire accepts: PostgreSQL builds a
// CopyData message in one allocation, which it caps at 1 GB.
const maxMessage = 1 << 30

// wire reads the server's answer to a COPY ... TO STDOUT from the
// connection itself, a message at a time, in place in one buffer: the
// payloads of the CopyData messages are what copyReader decodes.
//
// pgx's CopyTo would copy each message into a writer, from a goroutine
// that wakes up for every packet the server sends (8 kB). Read here, in
// the decoding goroutine, the connection is read when the decoder needs
// more bytes, and then as much as the server sent meanwhile.
type wire struct {
	rd   io.Reader
	buf  []byte
	r, w int // buf[r:w] is read and not yet taken

	tag  string // CommandComplete's, "COPY <rows>"
	done bool   // ReadyForQuery was read: nothing more comes
	err  error  // what ended the answer before its end: read again, it is returned again
}

func newWire(rd io.Reader) *wire {
	return &wire{rd: rd, buf: make([]byte, wireBuffer)}
}

// next returns the payload of the next CopyData message, valid until the
// next call. It returns io.EOF once the server is ready for another query,
// and the server's error, a *pgconn.PgError, when it sent one.
func (w *wire) next() ([]byte, error) {
	for {
		if w.err != nil {
			return nil, w.err
		}
		if w.done {
			return nil, io.EOF
		}
		typ, body, err := w.message()
		if err != nil {
			w.err = err
			return nil, err
		}
		switch typ {
		case 'd': // CopyData
			return body, nil
		case 'H': // CopyOutResponse: its first byte is 1 for binary
			if len(body) < 1 || body[0] != 1 {
				w.err = errors.New("the server answered the binary COPY in text")
			}
		case 'c', 'N', 'S', 'A': // CopyDone; a notice, a parameter or a notification, none of the stream's
		case 'C': // CommandComplete
			w.tag = strings.TrimRight(string(body), "\x00")
		case 'E': // ErrorResponse
			var msg pgproto3.ErrorResponse
			if err := msg.Decode(body); err != nil {
				w.err = fmt.Errorf("the server sent an error this connector cannot read: %w", err)
			} else {
				w.err = pgconn.ErrorResponseToPgError(&msg)
			}
		case 'Z': // ReadyForQuery
			w.done = true
		default:
			w.err = fmt.Errorf("the server sent a message of type %q in the middle of a COPY", typ)
		}
	}
}

// rows returns the rows CommandComplete counted; false before it came.
func (w *wire) rows() (int64, bool) {
	n, ok := strings.CutPrefix(w.tag, "COPY ")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n, 10, 64)
	return v, err == nil
}

// message reads the next message: its type and its body, in buf.
func (w *wire) message() (byte, []byte, error) {
	if err := w.fill(5); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(w.buf[w.r+1:]))
	if n < 4 || n > maxMessage {
		return 0, nil, fmt.Errorf("the server sent a message of %d bytes: the connection is out of step", n)
	}
	if err := w.fill(1 + n); err != nil {
		return 0, nil, err
	}
	typ, end := w.buf[w.r], w.r+1+n
	body := w.buf[w.r+5 : end : end]
	w.r = end
	return typ, body, nil
}

// fill reads until buf[r:w] holds n bytes. What it holds already, less
// than a message, moves to the front of buf first, so that each read has
// room for all the server sent.
func (w *wire) fill(n int) error {
	if w.w-w.r >= n {
		return nil
	}
	if n > len(w.buf) {
		w.buf = append(make([]byte, 0, n+wireBuffer), w.buf[w.r:w.w]...)
		w.buf = w.buf[:cap(w.buf)]
	} else {
		copy(w.buf, w.buf[w.r:w.w])
	}
	w.w -= w.r
	w.r = 0
	for w.w < n {
		k, err := w.rd.Read(w.buf[w.w:])
		w.w += k
		if err != nil && w.w < n {
			if err == io.EOF {
				return errors.New("the server closed the connection in the middle of the COPY")
			}
			return err
		}
	}
	return nil
}
