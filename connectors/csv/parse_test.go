package csv

import (
	"bytes"
	"context"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestParseFloatMatchesStrconv(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "1", "1.5", "-2", "1e3", "2.5E-2", ".5", "-.5", "5.", "0.1", "0.3", "123456789012345678",
		"9007199254740993", "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308", "1e22", "1e23",
		"3.14159265358979323846264338327950288", "0.000000000000000000000000001", "45.52955632679911",
		"-4.006272428689588", "1.07655502392344", "123.456e-7", "9999999999999999999.5", "+7.25",
	} {
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		var buf []byte
		got, ok := parseFloat([]byte(s), '.', 0, &buf)
		if !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseFloat(%q) = %v, %v; strconv says %v", s, got, ok, want)
		}
		comma := strings.Replace(s, ".", ",", 1)
		got, ok = parseFloat([]byte(comma), ',', numGrouped, &buf)
		if !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseFloat(%q, ',') = %v, %v; want %v", comma, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", ".", "e3", "1e", "1e+", "inf", "NaN", "0x1p3", "1_000", "01", "01.5", "1.5.5", "1,5", " 1", "1 ", "--1", "1e400"} {
		var buf []byte
		if f, ok := parseFloat([]byte(s), '.', 0, &buf); ok {
			t.Errorf("parseFloat(%q) = %v, want refused", s, f)
		}
	}
}

func TestParseFloatGrouped(t *testing.T) {
	for s, want := range map[string]float64{
		"1 234,5": 1234.5, "12\u00a0345\u00a0678,25": 12345678.25, "2\u202f500": 2500, "-1 000": -1000,
		"123 456 789 012 345 678 901,5": 123456789012345678901.5,
	} {
		var buf []byte
		got, ok := parseFloat([]byte(s), ',', numGrouped, &buf)
		if !ok || got != want {
			t.Errorf("parseFloat(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"12 34", "1  234", "1 2345", " 123", "1234 567", "1 234 56,5", "0 123"} {
		var buf []byte
		if f, ok := parseFloat([]byte(s), ',', numGrouped, &buf); ok {
			t.Errorf("parseFloat(%q) = %v, want refused", s, f)
		}
	}
}

// FuzzParseFloat checks that every number parseFloat reads is the one
// strconv.ParseFloat reads.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"1.5", "-0", "1e22", "9007199254740993", "0.1e-5", ".5", "123456789.123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf []byte
		got, ok := parseFloat([]byte(s), '.', 0, &buf)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("parseFloat(%q) = %v, strconv refuses it: %v", s, got, err)
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseFloat(%q) = %v, strconv says %v", s, got, want)
		}
	})
}

func TestParseInt(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "-0": 0, "7": 7, "+7": 7, "-42": -42, "9223372036854775807": math.MaxInt64, "-9223372036854775808": math.MinInt64} {
		if got, ok := parseInt([]byte(s), 0); !ok || got != want {
			t.Errorf("parseInt(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", "01", "-01", "00", "1.0", "1e3", "9223372036854775808", "-9223372036854775809", "1 000", "x"} {
		if v, ok := parseInt([]byte(s), 0); ok {
			t.Errorf("parseInt(%q) = %d, want refused", s, v)
		}
	}
	if v, ok := parseInt([]byte("01"), numLeadingZero); !ok || v != 1 {
		t.Errorf("declared integer 01 = %d, %v", v, ok)
	}
	if v, ok := parseInt([]byte("1 000 000"), numGrouped); !ok || v != 1000000 {
		t.Errorf("grouped 1 000 000 = %d, %v", v, ok)
	}
}

func TestDates(t *testing.T) {
	day := func(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400 }
	for _, c := range []struct {
		y    int
		m    time.Month
		d    int
		want int64
	}{{1970, 1, 1, 0}, {1969, 12, 31, -1}, {2000, 2, 29, day(2000, 2, 29)}, {1900, 3, 1, day(1900, 3, 1)}, {2100, 12, 31, day(2100, 12, 31)}, {1, 1, 1, day(1, 1, 1)}} {
		if got := daysFromCivil(c.y, int(c.m), c.d); got != c.want {
			t.Errorf("daysFromCivil(%d-%d-%d) = %d, want %d", c.y, c.m, c.d, got, c.want)
		}
	}
	if _, ok := parseDateYMD8([]byte("19000229")); ok {
		t.Error("1900-02-29 read as a date")
	}
	p, err := compilePattern("%d/%m/%y %H:%M:%S.%f")
	if err != nil {
		t.Fatal(err)
	}
	us, ok := p.parse([]byte("5/3/24 07:08:09.5"))
	if want := time.Date(2024, 3, 5, 7, 8, 9, 500_000_000, time.UTC).UnixMicro(); !ok || us != want {
		t.Errorf("pattern = %d, %v; want %d", us, ok, want)
	}
	for _, bad := range []string{"%Y-%m", "%d/%m/%Y %Z", "%"} {
		if _, err := compilePattern(bad); err == nil {
			t.Errorf("compilePattern(%q) accepted", bad)
		}
	}
}

func TestDetectDelimiter(t *testing.T) {
	for _, c := range []struct {
		sample string
		want   byte
	}{
		{"zone_geo;part;annee\nAin;2,5;2024\nAisne;4,5;2024\n", ';'},
		{"a,b,c\n1,2,3\n", ','},
		{"a\tb\n1\t2,5\n", '\t'},
		{"a|b\n1|2\n", '|'},
		{"a,b\n\"x;y\",1\n\"z;w\",2\n", ','},
		{"single\nvalue\n", ','},
		{"a;b\n1;2\n3;4\n5;6", ';'},
	} {
		if got := detectDelimiter([]byte(c.sample), true); got != c.want {
			t.Errorf("detectDelimiter(%q) = %q, want %q", c.sample, got, c.want)
		}
	}
}

// TestDecoderChunks reads through readers that return a byte at a time or
// split the text anywhere: UTF-8 sequences cut between reads must come out
// whole, and single-byte encodings must transcode the same.
func TestDecoderChunks(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		enc  encoding
		want string
	}{
		{"utf-8", "a\nété 😀 €\n", encDetect, "a\nété 😀 €\n"},
		{"bom", "\xef\xbb\xbfAnnées\n", encDetect, "Années\n"},
		{"latin1", "a\nArd\xe8che\n", encDetect, "a\nArdèche\n"},
		{"cp1252", "a\n\x80 l\x92eau\n", encDetect, "a\n€ l’eau\n"},
		{"declared latin1", "\x80\xe9", encLatin1, "\u0080é"},
		{"short", "\xe9", encDetect, "é"},
		{"empty", "", encDetect, ""},
	} {
		for _, wrap := range []struct {
			name string
			f    func(io.Reader) io.Reader
		}{
			{"whole", func(r io.Reader) io.Reader { return r }},
			{"one byte", iotest.OneByteReader},
			{"half", iotest.HalfReader},
		} {
			d := newDecoder(wrap.f(strings.NewReader(c.in)), c.enc)
			var out bytes.Buffer
			buf := make([]byte, 64)
			for {
				n, err := d.Read(buf)
				out.Write(buf[:n])
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s/%s: %v", c.name, wrap.name, err)
				}
			}
			if out.String() != c.want {
				t.Errorf("%s/%s: %q, want %q", c.name, wrap.name, out.String(), c.want)
			}
		}
	}
}

// TestScannerOneByte parses through a reader that returns one byte at a
// time, so that every record is cut at every place between two reads.
func TestScannerOneByte(t *testing.T) {
	in := "a,b\r\n\"x\r\ny\",\"q\"\"\"\n\n1,\n,2\n3,\"\""
	want := [][]string{{"a", "b"}, {"x\r\ny", "q\""}, {"1", ""}, {"", "2"}, {"3", ""}}
	for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
		s := newScanner(context.Background(), newDecoder(r, encUTF8))
		s.delim = ','
		var got [][]string
		for {
			ok, err := s.next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			var row []string
			for _, f := range s.fields {
				row = append(row, string(f))
			}
			got = append(got, row)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: got %q", in, got)
		}
		for i := range want {
			if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
				t.Errorf("record %d: %q, want %q", i, got[i], want[i])
			}
		}
	}
}
