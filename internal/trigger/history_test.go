package trigger

import (
	"errors"
	"testing"
	"time"
)

func TestHistorySinceIsBoundedByTheRetention(t *testing.T) {
	cases := []struct {
		since string
		keep  time.Duration
		want  time.Duration // 0: an InputError
	}{
		{"213504d", 0, 0}, // overflowed to 25 minutes before
		{"9223372036854775807d", 0, 0},
		{"91d", 0, 0}, // over the default 90 days
		{"90d", 0, 90 * 24 * time.Hour},
		{"400d", 365 * 24 * time.Hour, 0},
		{"300d", 365 * 24 * time.Hour, 300 * 24 * time.Hour},
		{"2562048h", 0, 0},
		{"-1d", 0, 0},
		{"24h", 0, 24 * time.Hour},
	}
	for _, c := range cases {
		req, err := Parse([]byte(`{"action":"history","since":"`+c.since+`"}`), Config{HistoryRetention: c.keep})
		var ie *InputError
		switch {
		case c.want == 0 && !errors.As(err, &ie):
			t.Errorf("since %s: %v, %+v; want an InputError", c.since, err, req.History)
		case c.want != 0 && (err != nil || req.History.Since != c.want):
			t.Errorf("since %s: %v, %+v; want %s", c.since, err, req.History, c.want)
		}
	}
}
