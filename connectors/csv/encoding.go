package csv

import (
	"bytes"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// encoding is a text encoding the connector reads.
type encoding uint8

const (
	encDetect encoding = iota
	encUTF8
	encLatin1
	encWindows1252
)

// byteTable maps each byte of a single-byte encoding to its UTF-8 form.
type byteTable [256][]byte

func newByteTable(cm *charmap.Charmap) *byteTable {
	var t byteTable
	for i := range 256 {
		t[i] = utf8.AppendRune(nil, cm.DecodeByte(byte(i)))
	}
	return &t
}

// The tables are built once from golang.org/x/text's charmaps.
var (
	latin1Table  = newByteTable(charmap.ISO8859_1)
	cp1252Table  = newByteTable(charmap.Windows1252)
	utf8BOM      = []byte{0xEF, 0xBB, 0xBF}
	errNotUTF8   = &decodeError{reason: "invalid UTF-8"}
	errShortUTF8 = &decodeError{reason: "truncated UTF-8 sequence at the end of the file"}
)

// decodeError is an encoding error at a line of the decoded text.
type decodeError struct {
	reason string
	line   int64 // 1-based physical line
}

func (e *decodeError) Error() string { return e.reason }

// decoder turns the raw bytes of a file into UTF-8, detecting the encoding
// when it is not declared. Detection waits for the first non-ASCII byte,
// because ASCII reads the same in the three encodings: the decision is made
// on the chunk that holds it, and never changes afterwards.
//
// Its output never ends in the middle of a UTF-8 sequence.
type decoder struct {
	r       io.Reader
	enc     encoding // encDetect until decided
	table   *byteTable
	started bool
	raw     []byte // read buffer for single-byte encodings
	pend    []byte // decoded bytes not yet returned
	pendBuf []byte
	tail    [4]byte // an incomplete UTF-8 sequence carried to the next read
	tailN   int
	lines   int64 // newlines returned so far
	err     error
}

func newDecoder(r io.Reader, enc encoding) *decoder {
	d := &decoder{r: r, enc: enc}
	switch enc {
	case encLatin1:
		d.table = latin1Table
	case encWindows1252:
		d.table = cp1252Table
	}
	return d
}

// Read fills p with UTF-8 text. len(p) must be at least 16. An encoding
// error is returned after the good bytes before it, as a *decodeError.
func (d *decoder) Read(p []byte) (int, error) {
	for {
		if len(d.pend) > 0 {
			n := copy(p, d.pend)
			d.pend = d.pend[n:]
			d.lines += int64(bytes.Count(p[:n], nl))
			return n, nil
		}
		if d.err != nil {
			return 0, d.err
		}
		if !d.started {
			d.started = true
			if err := d.start(); err != nil {
				d.err = err
			}
			continue
		}
		var n int
		var err error
		if d.table != nil {
			n, err = d.readTable(p)
		} else {
			n, err = d.readUTF8(p)
		}
		if err != nil {
			d.err = err
		}
		if n > 0 {
			return n, nil
		}
	}
}

var nl = []byte{'\n'}

// start drops a UTF-8 byte order mark, which also settles the encoding when
// it is detected.
func (d *decoder) start() error {
	if d.enc != encDetect && d.enc != encUTF8 {
		return nil
	}
	var head [3]byte
	n, err := io.ReadFull(d.r, head[:])
	if n == 3 && bytes.Equal(head[:], utf8BOM) {
		if d.enc == encDetect {
			d.enc = encUTF8
		}
		return nil
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return err
	}
	// Not a BOM: decode those bytes like the rest.
	d.pendBuf = append(d.pendBuf[:0], head[:n]...)
	if n < 3 {
		// The whole file is shorter than a BOM.
		out, derr := d.decodeChunk(d.pendBuf, true)
		d.pend = out
		if derr != nil {
			return derr
		}
		d.err = io.EOF
		return nil
	}
	d.tailN = copy(d.tail[:], d.pendBuf)
	return nil
}

// decodeChunk decodes a whole chunk (used for the few bytes before the
// stream proper) into a fresh slice.
func (d *decoder) decodeChunk(b []byte, eof bool) ([]byte, error) {
	if d.enc == encDetect {
		d.decideAt(b, eof)
	}
	if d.table != nil {
		return transcode(nil, b, d.table), nil
	}
	if !utf8.Valid(b) {
		return nil, &decodeError{reason: errNotUTF8.reason, line: 1 + int64(bytes.Count(b, nl))}
	}
	return append([]byte(nil), b...), nil
}

// decideBytes is the text read after the first non-ASCII byte to decide
// the encoding.
const decideBytes = 4096

// decideAt settles a detected encoding on a chunk that holds its first
// non-ASCII byte; eof says the chunk ends the text.
func (d *decoder) decideAt(b []byte, eof bool) {
	i := firstNonASCII(b)
	if i < 0 {
		return
	}
	rest := b[i:]
	if !eof {
		rest = rest[:completePrefix(rest)]
	}
	if len(rest) > 0 && utf8.Valid(rest) {
		d.enc = encUTF8
		return
	}
	// Not UTF-8: Windows-1252 when bytes 0x80-0x9F occur, else ISO-8859-1.
	// The two differ only on 0x80-0x9F, control characters in ISO-8859-1
	// that text never holds, so the Windows-1252 table reads both: a file
	// detected as ISO-8859-1 reads as it would, and stays right if such a
	// byte appears further on.
	d.enc, d.table = encWindows1252, cp1252Table
}

// readUTF8 reads UTF-8 (or still undecided ASCII) straight into p.
func (d *decoder) readUTF8(p []byte) (int, error) {
	t := copy(p, d.tail[:d.tailN])
	d.tailN = 0
	n, err := io.ReadAtLeast(d.r, p[t:], 1)
	n += t
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	eof := err == io.EOF
	if err != nil && !eof {
		return 0, err
	}
	b := p[:n]
	if d.enc == encDetect {
		i := firstNonASCII(b)
		if i < 0 {
			d.lines += int64(bytes.Count(b, nl))
			return n, err
		}
		// Decide on enough text after the first non-ASCII byte.
		for !eof && n-i < decideBytes && n < len(p) {
			m, rerr := d.r.Read(p[n:])
			n += m
			switch {
			case rerr == io.EOF:
				eof, err = true, io.EOF
			case rerr != nil:
				return 0, rerr
			}
		}
		b = p[:n]
		d.decideAt(b, eof)
		if d.table != nil {
			// The ASCII prefix is returned now, the rest transcoded later.
			d.pendBuf = transcode(d.pendBuf[:0], b[i:], d.table)
			d.pend = d.pendBuf
			d.lines += int64(bytes.Count(b[:i], nl))
			if eof {
				d.err = io.EOF
			}
			return i, nil
		}
	}
	// Keep an incomplete final sequence for the next read.
	cut := n
	if !eof {
		cut = completePrefix(b)
		d.tailN = copy(d.tail[:], b[cut:])
	}
	if bad := invalidUTF8(b[:cut]); bad >= 0 {
		line := d.lines + 1 + int64(bytes.Count(b[:bad], nl))
		good := bytes.LastIndexByte(b[:bad], '\n') + 1
		d.lines += int64(bytes.Count(b[:good], nl))
		reason := errNotUTF8.reason
		if eof && cut-bad < utf8.UTFMax && !utf8.FullRune(b[bad:cut]) {
			reason = errShortUTF8.reason
		}
		return good, &decodeError{reason: reason, line: line}
	}
	d.lines += int64(bytes.Count(b[:cut], nl))
	return cut, err
}

// readTable reads a single-byte encoding and expands it into p.
func (d *decoder) readTable(p []byte) (int, error) {
	want := len(p) / 3
	if cap(d.raw) < want {
		d.raw = make([]byte, want)
	}
	n, err := d.r.Read(d.raw[:want])
	if n == 0 && err == nil {
		return 0, nil
	}
	out := transcode(p[:0], d.raw[:n], d.table)
	d.lines += int64(bytes.Count(out, nl))
	return len(out), err
}

// transcode appends the UTF-8 form of src to dst.
func transcode(dst, src []byte, t *byteTable) []byte {
	for len(src) > 0 {
		i := firstNonASCII(src)
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		for i < len(src) && src[i] >= 0x80 {
			dst = append(dst, t[src[i]]...)
			i++
		}
		src = src[i:]
	}
	return dst
}

// firstNonASCII returns the index of the first byte >= 0x80, or -1.
func firstNonASCII(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
			uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		if w&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= 0x80 {
			return i
		}
	}
	return -1
}

// invalidUTF8 returns the offset of the first invalid UTF-8 sequence in b,
// or -1.
func invalidUTF8(b []byte) int {
	off := 0
	for {
		i := firstNonASCII(b[off:])
		if i < 0 {
			return -1
		}
		off += i
		rest := b[off:]
		if utf8.Valid(rest) {
			return -1
		}
		// Walk rune by rune to find the bad one.
		for len(rest) > 0 {
			if rest[0] < utf8.RuneSelf {
				j := firstNonASCII(rest)
				if j < 0 {
					return -1
				}
				off += j
				rest = rest[j:]
				continue
			}
			r, size := utf8.DecodeRune(rest)
			if r == utf8.RuneError && size <= 1 {
				return off
			}
			off += size
			rest = rest[size:]
		}
		return -1
	}
}

// completePrefix returns the length of b without an incomplete UTF-8
// sequence at its end.
func completePrefix(b []byte) int {
	n := len(b)
	for i := n - 1; i >= 0 && i >= n-utf8.UTFMax; i-- {
		c := b[i]
		if c < 0x80 {
			return n
		}
		if c >= 0xC0 { // a lead byte
			if utf8.FullRune(b[i:]) {
				return n
			}
			return i
		}
	}
	return n
}
