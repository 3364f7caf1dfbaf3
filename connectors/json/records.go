package jsonsrc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/datalab/datalab/connectors"
)

// MaxRecordBytes bounds one NDJSON line, so that a file without line
// breaks cannot fill memory.
const MaxRecordBytes = 64 << 20

// records reads the records of a file one after the other.
type records interface {
	// next reads the next record: false at the end.
	next() (value, bool, error)
	// line is where the last record starts, for DataError.Line: its line
	// (NDJSON) or its number (an array).
	line() int64
	// size is the bytes of the last record, roughly.
	size() int64
}

// where names a record in messages.
func where(f format, line int64) string {
	if f == formatNDJSON {
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("record %d of the array", line)
}

// detect skips a byte order mark and spaces, then peeks at the first
// character to tell an array from NDJSON: formatNone for an empty file.
// lines is the number of line breaks skipped.
func detect(br *bufio.Reader) (f format, lines int64, err error) {
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return formatNone, lines, nil
		}
		if err != nil {
			return formatNone, lines, err
		}
		switch c {
		case '\n':
			lines++
			continue
		case ' ', '\t', '\r':
			continue
		case '[':
			return formatArray, lines, br.UnreadByte()
		case '{':
			return formatNDJSON, lines, br.UnreadByte()
		}
		return formatNone, lines, fmt.Errorf("it starts with %q: %w", c, errNotJSON)
	}
}

var errNotJSON = errors.New("neither a JSON array nor newline-delimited JSON")

// arrayRecords reads the objects of a JSON array, token by token.
type arrayRecords struct {
	loc     string
	dec     *json.Decoder
	n       int64
	started bool
	ended   bool
	last    int64 // input offset after the last record
	bytes   int64
}

func newArrayRecords(loc string, r io.Reader) *arrayRecords {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return &arrayRecords{loc: loc, dec: dec}
}

func (a *arrayRecords) line() int64 { return a.n }
func (a *arrayRecords) size() int64 { return a.bytes }

func (a *arrayRecords) next() (value, bool, error) {
	if a.ended {
		return value{}, false, nil
	}
	if !a.started {
		a.started = true
		tok, err := a.dec.Token()
		if err != nil {
			return value{}, false, a.fail(err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return value{}, false, &connectors.DataError{Location: a.loc, Reason: "the file is not a JSON array",
				Fix: "check the file, or set format: ndjson when it holds one JSON object per line"}
		}
	}
	if !a.dec.More() {
		a.ended = true
		if _, err := a.dec.Token(); err != nil { // ']'
			return value{}, false, a.fail(err)
		}
		if _, err := a.dec.Token(); err != io.EOF {
			a.n++
			if err != nil {
				return value{}, false, a.fail(err)
			}
			return value{}, false, &connectors.DataError{Location: a.loc, Line: a.n,
				Reason: "there is more after the end of the array", Fix: "check the file: it should hold one array of objects"}
		}
		return value{}, false, nil
	}
	a.n++
	v, err := readValue(a.dec)
	if err != nil {
		return value{}, false, a.fail(err)
	}
	off := a.dec.InputOffset()
	a.bytes, a.last = off-a.last, off
	return v, true, nil
}

// fail turns a decoding error into a DataError naming the record; an
// error of the body (a broken download) is returned as it is.
func (a *arrayRecords) fail(err error) error {
	a.ended = true
	return syntaxError(a.loc, formatArray, max(a.n, 1), err)
}

func syntaxError(loc string, f format, line int64, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return &connectors.DataError{Location: loc, Line: line,
			Reason: fmt.Sprintf("%s is not valid JSON: %v", where(f, line), se), Fix: "check the file"}
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return &connectors.DataError{Location: loc, Line: line,
			Reason: fmt.Sprintf("the file ends in the middle of %s", where(f, line)), Fix: "check that the file is complete"}
	case errors.Is(err, errTooDeep):
		return &connectors.DataError{Location: loc, Line: line,
			Reason: fmt.Sprintf("%s holds %v", where(f, line), err), Fix: "check the file"}
	}
	var de *connectors.DataError
	if errors.As(err, &de) {
		return err
	}
	if isBodyError(err) {
		return err
	}
	return &connectors.DataError{Location: loc, Line: line,
		Reason: fmt.Sprintf("%s is not valid JSON: %v", where(f, line), err), Fix: "check the file"}
}

// bodyError marks an error of the content's reader, which already names
// the location.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

func isBodyError(err error) bool {
	var be *bodyError
	return errors.As(err, &be)
}

// bodyReader marks the errors of the content's reader.
type bodyReader struct{ r io.Reader }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

// lineRecords reads NDJSON: one value per line, blank lines skipped.
type lineRecords struct {
	loc   string
	br    *bufio.Reader
	buf   []byte
	n     int64 // lines read
	start int64 // line of the last record
	bytes int64
	ended bool
}

func newLineRecords(loc string, br *bufio.Reader, skipped int64) *lineRecords {
	return &lineRecords{loc: loc, br: br, n: skipped}
}

func (l *lineRecords) line() int64 { return l.start }
func (l *lineRecords) size() int64 { return l.bytes }

func (l *lineRecords) next() (value, bool, error) {
	for !l.ended {
		line, err := l.readLine()
		if err != nil {
			l.ended = true
			return value{}, false, err
		}
		if line == nil {
			l.ended = true
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		l.start, l.bytes = l.n, int64(len(line))
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		v, err := readValue(dec)
		if err == nil {
			if _, err2 := dec.Token(); err2 != io.EOF {
				err = fmt.Errorf("more than one JSON value on the line")
				if err2 != nil {
					err = err2
				}
			}
		}
		if err != nil {
			l.ended = true
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				return value{}, false, &connectors.DataError{Location: l.loc, Line: l.start,
					Reason: fmt.Sprintf("line %d is not a complete JSON value", l.start),
					Fix:    "write one JSON object per line (set format: array when the file is one pretty-printed array)"}
			}
			return value{}, false, syntaxError(l.loc, formatNDJSON, l.start, err)
		}
		return v, true, nil
	}
	return value{}, false, nil
}

// readLine reads the next line without its end; nil at the end.
func (l *lineRecords) readLine() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.br.ReadSlice('\n')
		l.buf = append(l.buf, chunk...)
		if len(l.buf) > MaxRecordBytes {
			return nil, &connectors.DataError{Location: l.loc, Line: l.n + 1,
				Reason: fmt.Sprintf("line %d is longer than %d MB", l.n+1, MaxRecordBytes>>20),
				Fix:    "check the file; set format: array when it is one JSON array"}
		}
		switch err {
		case nil:
			l.n++
			return bytes.TrimSuffix(bytes.TrimSuffix(l.buf, []byte("\n")), []byte("\r")), nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(l.buf) == 0 {
				return nil, nil
			}
			l.n++
			return l.buf, nil
		}
		return nil, err
	}
}
