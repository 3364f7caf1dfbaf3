package csv

import (
	"bytes"
	"context"
	"errors"
	"io"
)

const (
	// minBuffer and maxBuffer bound the read buffer between refills; it
	// starts small so that small files cost little, and doubles up to
	// maxBuffer as the file proves large.
	minBuffer = 64 << 10
	maxBuffer = 1 << 20
	// maxRecordBytes bounds one record: beyond it a quote was surely left
	// open, and memory must not follow a broken file.
	maxRecordBytes = 64 << 20
)

// recordError is a malformed record, at a physical line.
type recordError struct {
	line   int64
	reason string
	fix    string
	value  string
}

func (e *recordError) Error() string { return e.reason }

// scanner splits UTF-8 text into records of fields, following RFC 4180:
// fields may be quoted, a quote inside a quoted field is doubled, quoted
// fields may hold delimiters and line breaks; lines end in LF or CRLF; the
// last line may lack its line break; blank lines are skipped.
//
// Fields are slices of the scanner's buffer (or of its scratch space, for a
// quoted field with doubled quotes): they are valid until the next call to
// next. Between records the scanner only holds text it has not parsed yet,
// so parsing a chunk of whole records needs nothing but the chunk: the
// same code can run on several chunks at once.
type scanner struct {
	ctx   context.Context
	r     io.Reader
	buf   []byte // buf[pos:end] is read and not yet parsed
	pos   int
	end   int
	eof   bool
	rerr  error
	delim byte

	// keep, when >= 0, is an offset of buf that must stay in the buffer:
	// the start of the sample, replayed after type inference.
	keep     int
	keepLine int64

	fields  [][]byte
	scratch []byte

	lastFull bool // the last read filled much of the free space

	line    int64 // physical line where the next record starts, 1-based
	recLine int64 // physical line where the last record started
	recLen  int   // bytes of the last record, line break included
}

func newScanner(ctx context.Context, r io.Reader) *scanner {
	return &scanner{ctx: ctx, r: r, buf: make([]byte, minBuffer), line: 1, keep: -1}
}

// mark keeps everything from the next record on in the buffer, until
// rewind.
func (s *scanner) mark() {
	s.keep, s.keepLine = s.pos, s.line
}

// rewind goes back to the mark and stops keeping.
func (s *scanner) rewind() {
	s.pos, s.line = s.keep, s.keepLine
	s.keep = -1
}

// buffered returns the number of bytes held since the mark.
func (s *scanner) buffered() int {
	if s.keep < 0 {
		return 0
	}
	return s.end - s.keep
}

// fill reads more text, keeping buf[pos:end] (or buf[keep:end]).
func (s *scanner) fill() error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	from := s.pos
	if s.keep >= 0 {
		from = s.keep
	}
	if from > 0 {
		copy(s.buf, s.buf[from:s.end])
		s.end -= from
		s.pos -= from
		if s.keep >= 0 {
			s.keep = 0
		}
	}
	// Grow when less than half the buffer is free, or while the file
	// proves larger than the buffer.
	if free := len(s.buf) - s.end; free < len(s.buf)/2 || (s.lastFull && len(s.buf) < maxBuffer) {
		size := 2 * len(s.buf)
		if s.end-s.pos > maxRecordBytes {
			return &recordError{
				line:   s.line,
				reason: "a record is longer than 64 MiB: a quoted field is probably not closed",
				fix:    "check the quotes of this record: a quote inside a quoted field must be doubled (\"\")",
			}
		}
		nb := make([]byte, size)
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.lastFull = 4*n >= len(s.buf)-s.end
	s.end += n
	if err == io.EOF {
		s.eof = true
	} else if err != nil {
		s.rerr = err
		s.eof = true
	}
	return nil
}

// peek reads until n bytes or lines line breaks are buffered, or the text
// ends: enough to detect the delimiter, and no more than the sample needs,
// so that a slow server is not waited for in vain.
func (s *scanner) peek(n, lines int) error {
	for s.end-s.pos < n && !s.eof && bytes.Count(s.buf[s.pos:s.end], nl) < lines {
		if err := s.fill(); err != nil {
			return err
		}
	}
	return nil
}

// next reads the next record into s.fields. It returns false at the end of
// the text, or with an error.
func (s *scanner) next() (bool, error) {
	for {
		data := s.buf[s.pos:s.end]
		if len(data) == 0 {
			if s.eof {
				if s.rerr != nil {
					return false, s.rerr
				}
				return false, nil
			}
			if err := s.fill(); err != nil {
				return false, err
			}
			continue
		}
		i := bytes.IndexByte(data, '\n')
		var line []byte
		consumed := 0
		if i < 0 {
			if !s.eof {
				if err := s.fill(); err != nil {
					return false, err
				}
				continue
			}
			line, consumed = data, len(data)
		} else {
			line, consumed = data[:i], i+1
		}
		trimmed := line
		if n := len(trimmed); n > 0 && trimmed[n-1] == '\r' {
			trimmed = trimmed[:n-1]
		}
		if len(trimmed) == 0 {
			// A blank line.
			s.pos += consumed
			if i >= 0 {
				s.line++
			}
			continue
		}
		if bytes.IndexByte(trimmed, '"') < 0 {
			s.fields = splitFields(s.fields[:0], trimmed, s.delim)
			s.recLine, s.recLen = s.line, consumed
			s.pos += consumed
			if i >= 0 {
				s.line++
			}
			return true, nil
		}
		n, lines, err := s.parseQuoted(data)
		if err == errNeedMore {
			if err := s.fill(); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, err
		}
		s.recLine, s.recLen = s.line, n
		s.pos += n
		s.line += lines
		return true, nil
	}
}

var errNeedMore = errors.New("need more data")

// splitFields splits an unquoted line.
func splitFields(fields [][]byte, line []byte, delim byte) [][]byte {
	for {
		i := bytes.IndexByte(line, delim)
		if i < 0 {
			return append(fields, line)
		}
		fields = append(fields, line[:i])
		line = line[i+1:]
	}
}

// parseQuoted parses one record with quotes from the start of data. It
// returns the bytes consumed and the line breaks among them, or errNeedMore
// when data ends before the record does and more text may come.
func (s *scanner) parseQuoted(data []byte) (int, int64, error) {
	s.fields = s.fields[:0]
	s.scratch = s.scratch[:0]
	var lines int64
	delim := s.delim
	i := 0
	for {
		if i >= len(data) {
			if !s.eof {
				return 0, 0, errNeedMore
			}
			s.fields = append(s.fields, data[i:i])
			return i, lines, nil
		}
		if data[i] != '"' {
			j := i
			for j < len(data) && data[j] != delim && data[j] != '\n' {
				j++
			}
			if j == len(data) {
				if !s.eof {
					return 0, 0, errNeedMore
				}
				s.fields = append(s.fields, trimCR(data[i:j]))
				return j, lines, nil
			}
			if data[j] == delim {
				s.fields = append(s.fields, data[i:j])
				i = j + 1
				if i == len(data) && s.eof {
					s.fields = append(s.fields, data[i:i])
					return i, lines, nil
				}
				continue
			}
			s.fields = append(s.fields, trimCR(data[i:j]))
			return j + 1, lines + 1, nil
		}
		// A quoted field.
		i++
		start := i
		escaped := false
		for {
			j := bytes.IndexByte(data[i:], '"')
			if j < 0 {
				if !s.eof {
					return 0, 0, errNeedMore
				}
				return 0, 0, &recordError{
					line:   s.line,
					reason: "a quoted field is not closed before the end of the file",
					fix:    "close the quote, and double every quote inside a quoted field (\"\")",
				}
			}
			i += j
			if i+1 < len(data) && data[i+1] == '"' {
				escaped = true
				i += 2
				continue
			}
			if i+1 == len(data) && !s.eof {
				return 0, 0, errNeedMore
			}
			break
		}
		field := data[start:i]
		lines += int64(bytes.Count(field, nl))
		if escaped {
			from := len(s.scratch)
			s.scratch = appendUnescaped(s.scratch, field)
			field = s.scratch[from:len(s.scratch):len(s.scratch)]
		}
		i++ // the closing quote
		for i < len(data) && data[i] == ' ' && delim != ' ' {
			i++
		}
		switch {
		case i == len(data):
			if !s.eof {
				return 0, 0, errNeedMore
			}
			s.fields = append(s.fields, field)
			return i, lines, nil
		case data[i] == delim:
			s.fields = append(s.fields, field)
			i++
			if i == len(data) && s.eof {
				s.fields = append(s.fields, data[i:i])
				return i, lines, nil
			}
		case data[i] == '\n':
			s.fields = append(s.fields, field)
			return i + 1, lines + 1, nil
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			s.fields = append(s.fields, field)
			return i + 2, lines + 1, nil
		case data[i] == '\r' && i+1 == len(data):
			if !s.eof {
				return 0, 0, errNeedMore
			}
			s.fields = append(s.fields, field)
			return i + 1, lines, nil
		default:
			end := min(len(data), i+20)
			return 0, 0, &recordError{
				line:   s.line + lines,
				reason: "unexpected text after the closing quote of a quoted field",
				fix:    "a quote inside a quoted field must be doubled (\"\"); or declare the right delimiter in the registration",
				value:  string(data[start-1 : end]),
			}
		}
	}
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// appendUnescaped appends field with each doubled quote made single.
func appendUnescaped(dst, field []byte) []byte {
	for {
		i := bytes.IndexByte(field, '"')
		if i < 0 {
			return append(dst, field...)
		}
		dst = append(dst, field[:i+1]...)
		field = field[i+2:]
	}
}

// skipLines skips n physical lines (not records) before the header.
func (s *scanner) skipLines(n int) error {
	for ; n > 0; n-- {
		for {
			data := s.buf[s.pos:s.end]
			i := bytes.IndexByte(data, '\n')
			if i >= 0 {
				s.pos += i + 1
				s.line++
				break
			}
			if s.eof {
				s.pos = s.end
				return nil
			}
			if err := s.fill(); err != nil {
				return err
			}
		}
	}
	return nil
}
