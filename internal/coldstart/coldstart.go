// Package coldstart keeps the garbage collector off while the function's
// packages initialise and its handler is built. The SDK's service schemas
// allocate about 5 MB at package initialisation, past the runtime's first
// 4 MB heap goal, so a collection used to land inside INIT, which every
// cold start waits for (issue 17: about 3 ms of 12 in GODEBUG=inittrace=1).
// Nothing allocated then is garbage for long, and the heap stays far below
// the function's memory. main calls Done once the handler is built.
//
// It must run before the SDK's packages initialise. Go initialises, at each
// step, the first package by import path whose imports are initialised:
// this one imports nothing (runtime/debug would wait for os, which the
// schema packages do not), so it runs among the very first; inittrace shows
// it at about 0.4 ms. Hence the linkname to the function runtime/debug's
// SetGCPercent wraps, which the runtime provides under that name: a Go
// release that refused it would fail the build, not the function.
package coldstart

import (
	_ "unsafe" // go:linkname
)

//go:linkname setGCPercent runtime/debug.setGCPercent
func setGCPercent(int32) int32

// gcPercent is GOGC as the environment set it; the collector is off from here.
var gcPercent = setGCPercent(-1)

// Done turns the collector back on as GOGC set it.
func Done() { setGCPercent(gcPercent) }
