package main

import (
	"runtime/debug"
	"strconv"
)

// memoryShare is the part of the function's memory the Go heap may use
// before the collector works harder; the rest is the runtime, stacks and
// the binary. A sweep that reads padded policy documents then collects
// instead of growing until Lambda kills the process.
const memoryShare = 0.80

// setMemoryLimit sets the Go memory limit from the function's memory size
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, MB), unless GOMEMLIMIT is set: an
// operator's explicit limit wins (the runtime has already read it). It
// returns the limit set, 0 for none.
func setMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	mb, err := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || mb <= 0 {
		return 0
	}
	limit := int64(float64(mb) * memoryShare * (1 << 20))
	debug.SetMemoryLimit(limit)
	return limit
}
