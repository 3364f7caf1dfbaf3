package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// copyChunk is the size of the chunks in which the COPY stream goes from
// the connection's goroutine to the decoder: one hand-over per chunk, not
// per row.
const copyChunk = 256 << 10

// copyPipe carries the COPY stream from CopyTo, in the goroutine that
// runs it, to the decoder: a pipe that hands over whole chunks, at most
// cap(full) of them waiting, so that memory stays bounded.
type copyPipe struct {
	full chan []byte
	free chan []byte
	done chan struct{} // closed by the reader: stop writing
	cur  []byte
	err  error // why the writer stopped; read once full is closed
}

var errPipeClosed = errors.New("the stream was released")

func newCopyPipe() *copyPipe {
	return &copyPipe{full: make(chan []byte, 4), free: make(chan []byte, 6), done: make(chan struct{})}
}

// Write copies p, a CopyData message, into the current chunk.
func (p *copyPipe) Write(b []byte) (int, error) {
	if p.cur == nil {
		select {
		case p.cur = <-p.free:
		default:
			p.cur = make([]byte, 0, copyChunk+len(b))
		}
	}
	p.cur = append(p.cur, b...)
	if len(p.cur) >= copyChunk {
		if err := p.send(); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

func (p *copyPipe) send() error {
	select {
	case p.full <- p.cur:
		p.cur = nil
		return nil
	case <-p.done:
		return errPipeClosed
	}
}

// finish sends what is left and ends the stream with err, nil for its end.
func (p *copyPipe) finish(err error) {
	if err == nil && len(p.cur) > 0 {
		err = p.send()
	}
	p.err = err
	close(p.full)
}

// copyReader decodes the tuples of a binary COPY stream: each field as an
// int32 length (-1 for NULL) and its bytes, big-endian.
//
// It reads the pipe's chunks where they are: a chunk holds whole CopyData
// messages, and the server sends a tuple per message, so a tuple is in one
// chunk. Only the bytes of a tuple that would straddle two chunks are
// copied, into carry.
type copyReader struct {
	pipe   *copyPipe
	buf    []byte   // buf[r:] is unread: a chunk of the pipe, or carry
	r      int      //
	taken  []byte   // the chunk being read, to give back to the pipe
	carry  []byte   // the end of a chunk and the next one, when a tuple straddles them
	ends   []int    // offsets of the end of each field of the current tuple
	fields [][]byte // the fields of the current tuple: nil for NULL
	eof    bool
}

func newCopyReader(p *copyPipe) *copyReader {
	return &copyReader{pipe: p}
}

// close tells the writer to stop.
func (c *copyReader) close() {
	select {
	case <-c.pipe.done:
	default:
		close(c.pipe.done)
	}
}

// peek returns the next n unread bytes, contiguous.
func (c *copyReader) peek(n int) ([]byte, error) {
	for len(c.buf)-c.r < n {
		chunk, ok := <-c.pipe.full
		if !ok {
			if c.pipe.err != nil {
				return nil, c.pipe.err
			}
			if len(c.buf) > c.r {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, io.EOF
		}
		rest := c.buf[c.r:]
		if len(rest) == 0 {
			c.giveBack()
			c.buf, c.r, c.taken = chunk, 0, chunk
			continue
		}
		// A tuple straddles two chunks: join them in carry.
		c.carry = append(append(c.carry[:0], rest...), chunk...)
		c.giveBack()
		c.taken = chunk
		c.giveBack()
		c.buf, c.r = c.carry, 0
	}
	return c.buf[c.r : c.r+n], nil
}

// giveBack returns the chunk read to the pipe, for the writer to fill
// again.
func (c *copyReader) giveBack() {
	if c.taken == nil {
		return
	}
	select {
	case c.pipe.free <- c.taken[:0]:
	default:
	}
	c.taken = nil
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
	// The tuple is whole in buf: one pass over it.
	b := c.buf[c.r:]
	if len(b) >= 2 && int(int16(binary.BigEndian.Uint16(b))) == want {
		off := 2
		ends, fields := c.ends, c.fields
		i := 0
		for ; i < want && off+4 <= len(b); i++ {
			l := int(int32(binary.BigEndian.Uint32(b[off:])))
			off += 4
			if l < 0 {
				fields[i] = nil
			} else {
				if l > len(b)-off {
					break
				}
				fields[i] = b[off : off+l : off+l]
				off += l
			}
			ends[i] = off - 2
		}
		if i == want {
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
		c.giveBack()
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
