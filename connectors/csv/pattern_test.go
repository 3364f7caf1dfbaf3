package csv

import "testing"

// FuzzPatternDays checks that the fast reading of a date format reads
// exactly what the pattern does: the same dates, the same refusals.
func FuzzPatternDays(f *testing.F) {
	for _, s := range []string{"31/01/2020", "1/2/2024", "29/02/2023", "29/02/2024", "01/13/2020", "1/1/20", "1/1/2020 ", " 1/1/2020",
		"001/1/2020", "1/1/02020", "31/12/9999", "0/1/2020", "1//2020", "", "a/b/cdef", "12/12/1212x"} {
		f.Add(s)
	}
	p, err := compilePattern("%d/%m/%Y")
	if err != nil {
		f.Fatal(err)
	}
	if p.days == nil {
		f.Fatal("no fast reading of the French date format")
	}
	f.Fuzz(func(t *testing.T, s string) {
		days, ok := p.days([]byte(s))
		us, want := p.parse([]byte(s))
		if ok != want || ok && days != floorDiv(us, microsPerDay) {
			t.Errorf("%q: days %d, %v; the pattern reads %d, %v", s, days, ok, floorDiv(us, microsPerDay), want)
		}
	})
}
