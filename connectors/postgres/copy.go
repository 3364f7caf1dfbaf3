package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// copyReader decodes the tuples of a binary COPY stream: each field as an
// int32 length (-1 for NULL) and its bytes, big-endian.
//
// It reads the payloads of the CopyData messages where they are, in the
// wire's buffer: the server sends a tuple per message, so a tuple is in one
// payload. Only the bytes of a tuple that would straddle two payloads are
// copied, into carry.
type copyReader struct {
	wire   *wire
	buf    []byte   // buf[r:] is unread: a CopyData payload, or carry
	r      int      //
	carry  []byte   // the end of a payload and the next ones, when a tuple straddles them
	ends   []int    // offsets of the end of each field of the current tuple
	fields [][]byte // the fields of the current tuple: nil for NULL
	eof    bool
}

func newCopyReader(w *wire) *copyReader {
	return &copyReader{wire: w}
}

// peek returns the next n unread bytes, contiguous.
func (c *copyReader) peek(n int) ([]byte, error) {
	for len(c.buf)-c.r < n {
		// The wire reuses its buffer: what is left of the payload goes
		// to carry before the next one is read.
		rest := len(c.buf) - c.r
		if rest > 0 {
			c.carry = append(c.carry[:0], c.buf[c.r:]...)
		}
		payload, err := c.wire.next()
		if err != nil {
			if err == io.EOF && rest > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if rest == 0 {
			c.buf, c.r = payload, 0
			continue
		}
		// A tuple straddles two payloads: join them in carry.
		c.carry = append(c.carry, payload...)
		c.buf, c.r = c.carry, 0
	}
	return c.buf[c.r : c.r+n], nil
}

// drain reads the rest of the server's answer after the trailer, and
// checks that the server counted as many rows as were read.
func (c *copyReader) drain(rows int64) error {
	if c.r < len(c.buf) {
		return errors.New("bytes after the COPY stream's trailer")
	}
	for {
		_, err := c.wire.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		return errors.New("data after the COPY stream's trailer")
	}
	if n, ok := c.wire.rows(); ok && n != rows {
		return fmt.Errorf("the server sent %d rows but says %q", rows, c.wire.tag)
	}
	return nil
}

var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

// header reads the stream's header: signature, flags, extension.
func (c *copyReader) header() error {
	h, err := c.peek(19)
	if err != nil {
		return err
	}
	if !bytes.Equal(h[:11], copySignature) {
		return errors.New("not a binary COPY stream")
	}
	if binary.BigEndian.Uint32(h[11:])&(1<<16) != 0 {
		return errors.New("a binary COPY stream with OIDs")
	}
	ext := int(binary.BigEndian.Uint32(h[15:]))
	if _, err := c.peek(19 + ext); err != nil {
		return err
	}
	c.r += 19 + ext
	return nil
}

// next reads the next tuple of want fields: the tuple's bytes after its
// field count, the end of each field in them (c.ends) and the fields
// themselves (c.fields); io.EOF after the last. The bytes are valid until
// the next call.
func (c *copyReader) next(want int) ([]byte, error) {
	if len(c.ends) != want {
		c.ends, c.fields = make([]int, want), make([][]byte, want)
	}
	if c.r == len(c.buf) && !c.eof {
		if _, err := c.peek(2); err != nil {
			return nil, unexpected(err) // no trailer
		}
	}
	// The tuple is whole in buf: one pass over it.
	b := c.buf[c.r:]
	if len(b) >= 2 && int(int16(binary.BigEndian.Uint16(b))) == want {
		off, n := 2, len(b)
		ends, fields := c.ends[:want], c.fields[:want]
		whole := true
		for i := range fields {
			if off > n-4 {
				whole = false
				break
			}
			l := int(int32(binary.BigEndian.Uint32(b[off : off+4])))
			off += 4
			switch {
			case l < 0:
				fields[i] = nil
			case l <= n-off:
				fields[i] = b[off : off+l : off+l]
				off += l
			default:
				whole = false
			}
			if !whole {
				break
			}
			ends[i] = off - 2
		}
		if whole {
			c.r += off
			return b[2:off], nil
		}
	}
	return c.nextAcross(want)
}

// nextAcross is next for a tuple that is not whole in buf, and for the
// trailer.
func (c *copyReader) nextAcross(want int) ([]byte, error) {
	if c.eof {
		return nil, io.EOF
	}
	h, err := c.peek(2)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // no trailer
		}
		return nil, err
	}
	count := int(int16(binary.BigEndian.Uint16(h)))
	if count == -1 {
		c.eof = true
		c.r += 2
		return nil, io.EOF
	}
	if count != want {
		return nil, fmt.Errorf("a tuple of %d fields, want %d", count, want)
	}
	off := 2
	for i := range count {
		b, err := c.peek(off + 4)
		if err != nil {
			return nil, unexpected(err)
		}
		l := int(int32(binary.BigEndian.Uint32(b[off:])))
		off += 4
		if l > 0 {
			off += l
			if _, err := c.peek(off); err != nil {
				return nil, unexpected(err)
			}
		}
		c.ends[i] = off - 2
	}
	t := c.buf[c.r+2 : c.r+off]
	c.r += off
	for i := range c.fields {
		c.fields[i] = c.field(t, i)
	}
	return t, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// field returns field i of tuple t: nil for NULL.
func (c *copyReader) field(t []byte, i int) []byte {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	if int32(binary.BigEndian.Uint32(t[start:])) < 0 {
		return nil
	}
	return t[start+4 : c.ends[i] : c.ends[i]]
}

// quoteLiteral quotes s as an SQL string literal, whatever
// standard_conforming_strings says; false when s holds a NUL byte, which
// no PostgreSQL text holds.
func quoteLiteral(s string) (string, bool) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", false
	}
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		q = "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q, true
}
