package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestMemoryLimitFollowsTheFunctionsMemorySize(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	for _, tc := range []struct {
		name string
		env  map[string]string
		want int64 // 0: left as it was
	}{
		{"128 MB function", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, 128 << 20 * 8 / 10},
		{"explicit GOMEMLIMIT wins", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOMEMLIMIT": "50MiB"}, 0},
		{"outside Lambda", map[string]string{}, 0},
		{"nonsense size", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			got := setMemoryLimit(func(k string) string { return tc.env[k] })
			limit := debug.SetMemoryLimit(-1)
			if tc.want == 0 && (got != 0 || limit != math.MaxInt64) {
				t.Errorf("set %d (runtime limit %d), want the limit left alone", got, limit)
			}
			if tc.want != 0 && (got != tc.want || limit != tc.want) {
				t.Errorf("set %d (runtime limit %d), want %d", got, limit, tc.want)
			}
		})
	}
}
