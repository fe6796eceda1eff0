package rie

import (
	"os"
	"testing"
	"time"
)

func TestProcessCPUCountsThisProcess(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the count has grown by 200 ms; on a busy machine that
	// takes longer than 200 ms of wall time, but it must happen.
	deadline := time.Now().Add(30 * time.Second)
	x := 0
	for {
		for range 1 << 20 {
			x++
		}
		after, err := processCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after-before >= 200*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU %v -> %v after 30 s of spinning (%d)", before, after, x)
		}
	}
}
