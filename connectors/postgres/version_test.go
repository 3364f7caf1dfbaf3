package postgres

import "testing"

func TestMajorVersion(t *testing.T) {
	for v, want := range map[string]int{
		"15.20 (Debian 15.20-0+deb12u1)": 15, "9.6.24": 9, "12.0": 12, "17devel": 17, "18beta1": 18, "": 0, "x": 0,
	} {
		if got := majorVersion(v); got != want {
			t.Errorf("majorVersion(%q) = %d, want %d", v, got, want)
		}
	}
}
