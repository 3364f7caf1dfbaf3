package connectors

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	r := HTTPOptions{}.withDefaults().Retry
	for n, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 5: 8 * time.Second, 9: 8 * time.Second} {
		for range 100 {
			if d := r.delay(n); d < want/2 || d > want {
				t.Fatalf("delay after attempt %d = %v, want between %v and %v", n, d, want/2, want)
			}
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 120 ":                         2 * time.Minute,
		"-5":                            0,
		"soon":                          0,
		"Sun, 01 Sep 2024 12:00:30 GMT": 30 * time.Second,
		"Sun, 01 Sep 2024 11:00:00 GMT": 0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}
