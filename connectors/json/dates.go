package jsonsrc

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// stringKind says what a string holds: a date (yyyy-mm-dd), a datetime in
// an ISO 8601 form (with a T or a space, seconds and fraction optional, an
// offset or Z optional), or text. tz reports an offset or Z.
func stringKind(s string) (k kind, tz bool) {
	if len(s) < 10 || len(s) > 35 || s[4] != '-' {
		return kString, false
	}
	if len(s) == 10 {
		if _, ok := parseDate(s); ok {
			return kDate, false
		}
		return kString, false
	}
	if _, tz, ok := parseDatetime(s); ok {
		return kDatetime, tz
	}
	return kString, false
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// parseDate reads yyyy-mm-dd into days since the epoch.
func parseDate(s string) (arrow.Date32, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s[:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return 0, false // 2024-02-30
	}
	return arrow.Date32FromTime(t), true
}

// parseDatetime reads yyyy-mm-dd[T ]hh:mm[:ss[.fffffffff]][Z|±hh:mm|±hhmm]
// into microseconds since the epoch, in UTC when an offset is given.
func parseDatetime(s string) (us int64, tz, ok bool) {
	if len(s) < 16 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' {
		return 0, false, false
	}
	days, ok := parseDate(s[:10])
	if !ok {
		return 0, false, false
	}
	h, ok1 := digits(s[11:13])
	mi, ok2 := digits(s[14:16])
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return 0, false, false
	}
	rest := s[16:]
	sec, nanos := 0, 0
	if len(rest) >= 3 && rest[0] == ':' {
		v, ok := digits(rest[1:3])
		if !ok || v > 59 {
			return 0, false, false
		}
		sec, rest = v, rest[3:]
		if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') {
			n := 1
			for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
				n++
			}
			frac := rest[1:n]
			if len(frac) == 0 || len(frac) > 9 {
				return 0, false, false
			}
			f, _ := digits(frac)
			for range 9 - len(frac) {
				f *= 10
			}
			nanos, rest = f, rest[n:]
		}
	}
	offset := 0
	switch {
	case rest == "":
	case rest == "Z" || rest == "z":
		tz = true
	case rest[0] == '+' || rest[0] == '-':
		off := strings.Replace(rest[1:], ":", "", 1)
		oh, ok1 := digits(off[:min(2, len(off))])
		om, ok2 := 0, true
		if len(off) == 4 {
			om, ok2 = digits(off[2:])
		} else if len(off) != 2 {
			return 0, false, false
		}
		if !ok1 || !ok2 || oh > 18 || om > 59 {
			return 0, false, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
		tz = true
	default:
		return 0, false, false
	}
	secs := int64(days)*86400 + int64(h*3600+mi*60+sec) - int64(offset)
	return secs*1_000_000 + int64(nanos/1000), tz, true
}

// layout is a declared Table Schema date format turned into a Go layout.
type layout string

// compileFormat turns a strftime pattern (%Y %y %m %d %H %M %S %f %z, and
// separators) into a Go time layout.
func compileFormat(format string) (layout, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			if c != 'T' && (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return "", fmt.Errorf("the letter or digit %q outside a %%-directive is not supported", c)
			}
			b.WriteByte(c)
			continue
		}
		if i+1 == len(format) {
			return "", fmt.Errorf("%q ends with a lone %%", format)
		}
		i++
		switch format[i] {
		case 'Y':
			b.WriteString("2006")
		case 'y':
			b.WriteString("06")
		case 'm':
			b.WriteString("01")
		case 'd':
			b.WriteString("02")
		case 'H':
			b.WriteString("15")
		case 'M':
			b.WriteString("04")
		case 'S':
			b.WriteString("05")
		case 'f':
			if !strings.HasSuffix(b.String(), ".") {
				return "", fmt.Errorf("%%f must follow a dot, as in %%S.%%f")
			}
			b.WriteString("000000")
		case 'z':
			b.WriteString("-0700")
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("%%%c is not a supported directive", format[i])
		}
	}
	return layout(b.String()), nil
}

// parse reads s with the layout: days for a date, microseconds for a
// datetime (UTC when the layout has an offset).
func (l layout) parse(s string) (time.Time, bool) {
	t, err := time.Parse(string(l), s)
	return t, err == nil
}
