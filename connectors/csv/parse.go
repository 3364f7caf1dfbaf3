package csv

import (
	"math"
	"strconv"
	"unsafe"
)

// The parsers below read values straight from the scanner's bytes, without
// allocating: they run once per field of the file.

// trimSpace drops ASCII spaces and tabs around b.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// groupSep returns the length of a thousands separator at the start of b:
// a space, a no-break space (U+00A0) or a narrow no-break space (U+202F).
func groupSep(b []byte) int {
	switch {
	case len(b) >= 1 && b[0] == ' ':
		return 1
	case len(b) >= 2 && b[0] == 0xC2 && b[1] == 0xA0:
		return 2
	case len(b) >= 3 && b[0] == 0xE2 && b[1] == 0x80 && b[2] == 0xAF:
		return 3
	}
	return 0
}

// numFlags say what a number may look like.
type numFlags uint8

const (
	// numGrouped allows thousands separators: "1 234".
	numGrouped numFlags = 1 << iota
	// numLeadingZero allows "01": a declared numeric column, not a code.
	numLeadingZero
	// numDotToo lets a "," decimal column read a value written with a "."
	// (without thousands separators) too: files mix "45,93" and "45.52"
	// in one column.
	numDotToo
)

// scanDigits reads the integer part of a number into m: digits, with
// thousands separators when allowed. It returns the bytes read, the digits
// read, whether m overflowed 19 digits (the digits are then counted, not
// kept), and false when the part is malformed.
func scanDigits(b []byte, flags numFlags) (n int, digits int, m uint64, dropped int, ok bool) {
	group := 0 // digits in the current group
	grouped := false
	for n < len(b) {
		c := b[n]
		if c >= '0' && c <= '9' {
			if digits < 19 {
				m = m*10 + uint64(c-'0')
			} else {
				dropped++
			}
			digits++
			group++
			n++
			continue
		}
		if flags&numGrouped != 0 && digits > 0 {
			if k := groupSep(b[n:]); k > 0 {
				// The first group has 1 to 3 digits, the others 3.
				if group == 0 || group > 3 || (grouped && group != 3) {
					return 0, 0, 0, 0, false
				}
				grouped = true
				group = 0
				n += k
				continue
			}
		}
		break
	}
	if grouped && group != 3 {
		return 0, 0, 0, 0, false
	}
	return n, digits, m, dropped, true
}

// parseInt reads an integer: an optional sign and digits. "01" is refused
// unless flags allow leading zeros: codes with leading zeros are identifiers.
func parseInt(b []byte, flags numFlags) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	if flags&numGrouped == 0 && len(b) <= 18 {
		// The common case: at most 18 digits cannot overflow.
		if b[0] == '0' && len(b) > 1 && flags&numLeadingZero == 0 {
			return 0, false
		}
		var v int64
		for _, c := range b {
			d := c - '0'
			if d > 9 {
				return 0, false
			}
			v = v*10 + int64(d)
		}
		if neg {
			v = -v
		}
		return v, true
	}
	n, digits, m, dropped, ok := scanDigits(b, flags)
	if !ok || n != len(b) || digits == 0 || dropped > 0 {
		return 0, false
	}
	if b[0] == '0' && digits > 1 && flags&numLeadingZero == 0 {
		return 0, false
	}
	if neg {
		if m > 1<<63 {
			return 0, false
		}
		return -int64(m), true // -(1<<63) wraps to itself, as wanted
	}
	if m > math.MaxInt64 {
		return 0, false
	}
	return int64(m), true
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat reads a decimal number whose decimal separator is dec ('.' or
// ','): an optional sign, digits (with thousands separators when flags
// allow), an optional fraction, an optional exponent ("1e3", "2,5E-2").
// Its result is the float64 nearest to the value, as strconv.ParseFloat's:
// exact arithmetic when the digits fit in 2^53 and the power of ten is
// small (the values of nearly every file), strconv.ParseFloat otherwise,
// on a copy made with '.' in buf.
func parseFloat(b []byte, dec byte, flags numFlags, buf *[]byte) (float64, bool) {
	f, ok := parseFloatDec(b, dec, flags, buf)
	if !ok && dec == ',' && flags&numDotToo != 0 {
		return parseFloatDec(b, '.', flags&^numGrouped, buf)
	}
	return f, ok
}

func parseFloatDec(b []byte, dec byte, flags numFlags, buf *[]byte) (float64, bool) {
	orig := b
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	n, intDigits, m, dropped, ok := scanDigits(b, flags)
	if !ok {
		return 0, false
	}
	if intDigits > 1 && b[0] == '0' && flags&numLeadingZero == 0 {
		return 0, false
	}
	grouped := n != intDigits
	i := n
	fracDigits := 0 // fraction digits kept in m
	sawFrac := false
	exact := dropped == 0
	if i < len(b) && b[i] == dec {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			sawFrac = true
			if intDigits+fracDigits < 19 {
				m = m*10 + uint64(b[i]-'0')
				fracDigits++
			} else {
				exact = false
			}
			i++
		}
	}
	if intDigits == 0 && !sawFrac {
		return 0, false
	}
	pointed := i > n // a decimal separator was read
	exp := 0
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if exp < 10000 {
				exp = exp*10 + int(b[i]-'0')
			}
			i++
		}
		if i == start {
			return 0, false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(b) {
		return 0, false
	}
	if !pointed && i == n && flags&numLeadingZero == 0 && (dropped > 0 || m > 1<<63 || (!neg && m == 1<<63)) {
		// Digits alone, beyond int64: an identifier, not a quantity.
		return 0, false
	}
	if exact && m <= 1<<53 {
		e := exp - fracDigits
		f := float64(m)
		switch {
		case e == 0:
		case e > 0 && e <= 22:
			f *= pow10[e]
		case e < 0 && e >= -22:
			f /= pow10[-e]
		default:
			goto slow
		}
		if neg {
			f = -f
		}
		return f, true
	}
slow:
	// Rebuild the number as strconv reads it: no separators, a '.'.
	s := (*buf)[:0]
	for _, c := range orig {
		switch {
		case c == dec:
			s = append(s, '.')
		case c >= '0' && c <= '9', c == '-', c == '+', c == 'e', c == 'E':
			s = append(s, c)
		case grouped:
			// bytes of a thousands separator
		default:
			s = append(s, c)
		}
	}
	*buf = s
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(s), len(s)), 64)
	if err != nil {
		// Out of range: refuse rather than store an infinity.
		return 0, false
	}
	return f, true
}

// parseBool reads true or false in any case; when numeric is set (a
// declared boolean column), also 1 and 0.
func parseBool(b []byte, numeric bool) (bool, bool) {
	switch len(b) {
	case 1:
		if numeric {
			switch b[0] {
			case '1':
				return true, true
			case '0':
				return false, true
			}
		}
	case 4:
		if b[0]|0x20 == 't' && b[1]|0x20 == 'r' && b[2]|0x20 == 'u' && b[3]|0x20 == 'e' {
			return true, true
		}
	case 5:
		if b[0]|0x20 == 'f' && b[1]|0x20 == 'a' && b[2]|0x20 == 'l' && b[3]|0x20 == 's' && b[4]|0x20 == 'e' {
			return false, true
		}
	}
	return false, false
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (the classic era-based computation).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	if m == 2 && isLeap(y) {
		return d <= 29
	}
	return d <= monthDays[m]
}

// digits reads n ASCII digits at the start of b.
func digitsN(b []byte, n int) (int, bool) {
	if len(b) < n {
		return 0, false
	}
	v := 0
	for _, c := range b[:n] {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + int(d)
	}
	return v, true
}

// digits12 reads one or two digits at the start of b, returning the value
// and the count read.
func digits12(b []byte) (int, int) {
	if len(b) == 0 || b[0]-'0' > 9 {
		return 0, 0
	}
	v := int(b[0] - '0')
	if len(b) > 1 && b[1]-'0' <= 9 {
		return v*10 + int(b[1]-'0'), 2
	}
	return v, 1
}

// parseDateISO reads yyyy-mm-dd; rest is what follows it.
func parseDateISO(b []byte) (days int64, rest []byte, ok bool) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return 0, nil, false
	}
	y, ok1 := digitsN(b, 4)
	m, ok2 := digitsN(b[5:], 2)
	d, ok3 := digitsN(b[8:], 2)
	if !ok1 || !ok2 || !ok3 || !validDate(y, m, d) {
		return 0, nil, false
	}
	return daysFromCivil(y, m, d), b[10:], true
}

// parseDateDMY reads dd/mm/yyyy (one or two digits for the day and month).
func parseDateDMY(b []byte) (days int64, rest []byte, ok bool) {
	d, n := digits12(b)
	if n == 0 || n >= len(b) || b[n] != '/' {
		return 0, nil, false
	}
	b = b[n+1:]
	m, n := digits12(b)
	if n == 0 || n >= len(b) || b[n] != '/' {
		return 0, nil, false
	}
	b = b[n+1:]
	y, ok := digitsN(b, 4)
	if !ok || !validDate(y, m, d) {
		return 0, nil, false
	}
	return daysFromCivil(y, m, d), b[4:], true
}

// parseDateYMD8 reads yyyymmdd, a date between 1900 and 2100 only: other
// 8-digit numbers are numbers.
func parseDateYMD8(b []byte) (int64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	y, ok1 := digitsN(b, 4)
	m, ok2 := digitsN(b[4:], 2)
	d, ok3 := digitsN(b[6:], 2)
	if !ok1 || !ok2 || !ok3 || y < 1900 || y > 2100 || !validDate(y, m, d) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

const microsPerDay = 86400 * 1e6

// parseClock reads hh:mm[:ss[.fraction]] and returns microseconds.
func parseClock(b []byte) (int64, []byte, bool) {
	h, ok1 := digitsN(b, 2)
	if !ok1 || len(b) < 5 || b[2] != ':' {
		return 0, nil, false
	}
	mi, ok2 := digitsN(b[3:], 2)
	if !ok2 || h > 23 || mi > 59 {
		return 0, nil, false
	}
	us := int64(h*3600+mi*60) * 1e6
	b = b[5:]
	if len(b) > 0 && b[0] == ':' {
		s, ok := digitsN(b[1:], 2)
		if !ok || s > 60 {
			return 0, nil, false
		}
		us += int64(s) * 1e6
		b = b[3:]
		if len(b) > 0 && b[0] == '.' {
			b = b[1:]
			frac, n := int64(0), 0
			for n < len(b) && b[n] >= '0' && b[n] <= '9' {
				if n < 6 {
					frac = frac*10 + int64(b[n]-'0')
				}
				n++
			}
			if n == 0 || n > 9 {
				return 0, nil, false
			}
			for k := n; k < 6; k++ {
				frac *= 10
			}
			us += frac
			b = b[n:]
		}
	}
	return us, b, true
}

// parseDatetimeISO reads yyyy-mm-dd, then optionally a space or T and
// hh:mm[:ss[.f]], then optionally Z; microseconds since the epoch.
func parseDatetimeISO(b []byte) (int64, bool) {
	days, rest, ok := parseDateISO(b)
	if !ok {
		return 0, false
	}
	return clockAfterDate(days, rest)
}

// parseDatetimeDMY reads dd/mm/yyyy, then optionally a space and
// hh:mm[:ss].
func parseDatetimeDMY(b []byte) (int64, bool) {
	days, rest, ok := parseDateDMY(b)
	if !ok {
		return 0, false
	}
	return clockAfterDate(days, rest)
}

func clockAfterDate(days int64, rest []byte) (int64, bool) {
	ts := days * microsPerDay
	if len(rest) == 0 {
		return ts, true
	}
	if rest[0] != ' ' && rest[0] != 'T' {
		return 0, false
	}
	us, rest, ok := parseClock(rest[1:])
	if !ok {
		return 0, false
	}
	if len(rest) == 1 && rest[0] == 'Z' {
		rest = rest[1:]
	}
	if len(rest) != 0 {
		return 0, false
	}
	return ts + us, true
}
