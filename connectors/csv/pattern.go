package csv

import (
	"fmt"
	"strings"
)

// pattern is a compiled strftime-like date format from a registration's
// schema: %Y (4-digit year), %y (2-digit year, 1969-2068), %m, %d, %H, %M,
// %S (1 or 2 digits), %f (fraction of a second), %% (a percent sign); any
// other character stands for itself.
type pattern struct {
	src   string
	steps []step
	// days, when set, reads the pattern as a date (days since the epoch)
	// the way parse does, faster: for the formats a built-in parser reads.
	days func([]byte) (int64, bool)
}

type step struct {
	verb byte // 0 for a literal
	lit  byte
}

// compilePattern compiles a Table Schema format. It reports a bad directive
// in the error's text.
func compilePattern(format string) (*pattern, error) {
	p := &pattern{src: format}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			p.steps = append(p.steps, step{lit: c})
			continue
		}
		i++
		if i == len(format) {
			return nil, fmt.Errorf("%q ends with a lone %%", format)
		}
		switch v := format[i]; v {
		case 'Y', 'y', 'm', 'd', 'H', 'M', 'S', 'f':
			p.steps = append(p.steps, step{verb: v})
		case '%':
			p.steps = append(p.steps, step{lit: '%'})
		default:
			return nil, fmt.Errorf("%q uses %%%c, which is not supported", format, v)
		}
	}
	if !strings.Contains(format, "%Y") && !strings.Contains(format, "%y") ||
		!strings.Contains(format, "%m") || !strings.Contains(format, "%d") {
		return nil, fmt.Errorf("%q lacks a year (%%Y), a month (%%m) or a day (%%d)", format)
	}
	if format == "%d/%m/%Y" {
		// The French format: parseDateDMY reads exactly what parse does.
		p.days = func(b []byte) (int64, bool) {
			d, rest, ok := parseDateDMY(b)
			return d, ok && len(rest) == 0
		}
	}
	return p, nil
}

// parse reads b and returns microseconds since the epoch.
func (p *pattern) parse(b []byte) (int64, bool) {
	y, mo, d := 1970, 1, 1
	var h, mi, s int
	var frac int64
	for _, st := range p.steps {
		if st.verb == 0 {
			if len(b) == 0 || b[0] != st.lit {
				return 0, false
			}
			b = b[1:]
			continue
		}
		switch st.verb {
		case 'Y':
			v, ok := digitsN(b, 4)
			if !ok {
				return 0, false
			}
			y, b = v, b[4:]
		case 'y':
			v, ok := digitsN(b, 2)
			if !ok {
				return 0, false
			}
			if v < 69 {
				y = 2000 + v
			} else {
				y = 1900 + v
			}
			b = b[2:]
		case 'f':
			n := 0
			frac = 0
			for n < len(b) && b[n] >= '0' && b[n] <= '9' {
				if n < 6 {
					frac = frac*10 + int64(b[n]-'0')
				}
				n++
			}
			if n == 0 {
				return 0, false
			}
			for k := n; k < 6; k++ {
				frac *= 10
			}
			b = b[n:]
		default:
			v, n := digits12(b)
			if n == 0 {
				return 0, false
			}
			b = b[n:]
			switch st.verb {
			case 'm':
				mo = v
			case 'd':
				d = v
			case 'H':
				h = v
			case 'M':
				mi = v
			case 'S':
				s = v
			}
		}
	}
	if len(b) != 0 || !validDate(y, mo, d) || h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	return daysFromCivil(y, mo, d)*microsPerDay + int64(h*3600+mi*60+s)*1e6 + frac, true
}
