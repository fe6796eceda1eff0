package loglevel

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestLambdaLevelFollowsTheDocumentedRule(t *testing.T) {
	const ts = `"timestamp":"2026-12-05T10:00:00.123Z"`
	for _, tt := range []struct{ line, want string }{
		{`{"level":"WARN",` + ts + `,"message":"m"}`, "WARN"},
		{`{"level":"debug",` + ts + `}`, "DEBUG"},  // case does not matter
		{`{"level":"WARNING",` + ts + `}`, "INFO"}, // not one of Lambda's levels
		{`{"level":"ERROR"}`, "INFO"},              // no valid timestamp
		{`{"level":"ERROR","timestamp":"yesterday"}`, "INFO"},
		{`{"_aws":{"Timestamp":1},"SweepCompleted":1}`, "INFO"}, // an EMF record
		{`plain text`, "INFO"},
	} {
		if got := LambdaLevel(tt.line); got != tt.want {
			t.Errorf("LambdaLevel(%s) = %s, want %s", tt.line, got, tt.want)
		}
	}
	emf := `{"_aws":{"Timestamp":1},"SweepCompleted":1}`
	for filter, keeps := range map[string]bool{"TRACE": true, "DEBUG": true, "INFO": true, "WARN": false, "ERROR": false, "FATAL": false} {
		if got := LambdaKeeps(emf, filter); got != keeps {
			t.Errorf("an EMF record at filter %s: kept %v, want %v", filter, got, keeps)
		}
	}
}

func TestGateHoldsBackLinesBelowTheLevel(t *testing.T) {
	var buf bytes.Buffer
	min, ok := parse("warn")
	if !ok {
		t.Fatal("WARN not parsed")
	}
	log := slog.New(&gate{Handler: slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), min: min}).With("run", 1)
	log.Info("chatty")
	log.Debug("chattier")
	log.Warn("heads up")
	log.ErrorContext(context.Background(), "broken")
	var levels []string
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		levels = append(levels, rec["level"].(string))
	}
	if len(levels) != 2 || levels[0] != "WARN" || levels[1] != "ERROR" {
		t.Errorf("levels written %v, want WARN and ERROR only", levels)
	}
	if _, ok := parse("LOUD"); ok {
		t.Error("an unknown level was accepted")
	}
}
