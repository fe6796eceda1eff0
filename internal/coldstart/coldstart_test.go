package coldstart

import (
	"runtime/debug"
	"testing"
)

func TestTheCollectorIsOffUntilDone(t *testing.T) {
	// The package's initialisation turned it off; SetGCPercent reports it.
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("GC percent at init = %d, want -1 (off)", p)
	}
	Done()
	if p := debug.SetGCPercent(int(gcPercent)); p != int(gcPercent) || p < 0 {
		t.Errorf("GC percent after Done = %d, want GOGC's %d", p, gcPercent)
	}
}
