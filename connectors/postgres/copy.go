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
type copyReader struct {
	pipe  *copyPipe
	buf   []byte
	r, w  int    // buf[r:w] is unread
	chunk []byte // the rest of the chunk being copied into buf
	taken []byte // the chunk to give back to the pipe
	ends  []int  // offsets of the end of each field of the current tuple
	eof   bool
}

func newCopyReader(p *copyPipe) *copyReader {
	return &copyReader{pipe: p, buf: make([]byte, 2*copyChunk)}
}

// close tells the writer to stop.
func (c *copyReader) close() {
	select {
	case <-c.pipe.done:
	default:
		close(c.pipe.done)
	}
}

// peek returns the next n unread bytes.
func (c *copyReader) peek(n int) ([]byte, error) {
	for c.w-c.r < n {
		if len(c.chunk) == 0 {
			if c.taken != nil {
				select {
				case c.pipe.free <- c.taken[:0]:
				default:
				}
				c.taken = nil
			}
			chunk, ok := <-c.pipe.full
			if !ok {
				if c.pipe.err != nil {
					return nil, c.pipe.err
				}
				if c.w > c.r {
					return nil, io.ErrUnexpectedEOF
				}
				return nil, io.EOF
			}
			c.chunk, c.taken = chunk, chunk
		}
		if c.r > 0 && len(c.buf)-c.w < len(c.chunk) {
			c.w = copy(c.buf, c.buf[c.r:c.w])
			c.r = 0
		}
		if n > len(c.buf) {
			c.buf = append(c.buf[:c.w], make([]byte, n-c.w)...)
			c.buf = c.buf[:cap(c.buf)]
		}
		k := copy(c.buf[c.w:], c.chunk)
		c.w += k
		c.chunk = c.chunk[k:]
	}
	return c.buf[c.r : c.r+n], nil
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
// field count, and the end of each field in them (c.ends); io.EOF after
// the last. The bytes are valid until the next call.
func (c *copyReader) next(want int) ([]byte, error) {
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
	c.ends = c.ends[:0]
	off := 2
	for range count {
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
		c.ends = append(c.ends, off)
	}
	t := c.buf[c.r+2 : c.r+off]
	c.r += off
	for i := range c.ends {
		c.ends[i] -= 2
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
