// Package loglevel keeps the functions' metrics alive at every log level.
//
// Lambda's log-level filtering (JSON log format with an application log
// level) reads each line's "level"; a line without one, or without a valid
// timestamp, counts as INFO ("Log-level filtering", Lambda developer guide).
// Embedded Metric Format records carry no level, so a filter at WARN or
// ERROR drops every metric: the dashboard empties and the SweepMissing
// alarm (missing data is breaching) fires. Giving metric records a level
// such as ERROR would keep them but lie to everyone who searches for
// errors.
//
// So the template never sets Lambda's filter above INFO (DEBUG stays DEBUG),
// and the operator's LogLevel reaches the function as DHMC_LOG_LEVEL, which
// this package applies to the function's own log lines. WARN still means
// "only warnings and errors from the function"; the metrics are never
// filtered.
package loglevel

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// EnvLevel is the function's own log level (DEBUG, INFO, WARN, ERROR); empty
// leaves Lambda's (AWS_LAMBDA_LOG_LEVEL) alone.
const EnvLevel = "DHMC_LOG_LEVEL"

// New returns the function's logger: Lambda's JSON handler (request ID,
// Lambda's key names), holding back lines below the level EnvLevel names.
func New(getenv func(string) string) *slog.Logger {
	h := lambdacontext.NewLogHandler()
	if min, ok := parse(getenv(EnvLevel)); ok {
		return slog.New(&gate{Handler: h, min: min})
	}
	return slog.New(h)
}

func parse(s string) (slog.Level, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "TRACE", "DEBUG":
		return slog.LevelDebug, true
	case "INFO":
		return slog.LevelInfo, true
	case "WARN", "WARNING":
		return slog.LevelWarn, true
	case "ERROR", "FATAL":
		return slog.LevelError, true
	}
	return 0, false
}

// gate drops records below min before they reach the handler.
type gate struct {
	slog.Handler
	min slog.Level
}

func (g *gate) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= g.min && g.Handler.Enabled(ctx, l)
}

func (g *gate) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < g.min {
		return nil
	}
	return g.Handler.Handle(ctx, r)
}

func (g *gate) WithAttrs(a []slog.Attr) slog.Handler {
	return &gate{Handler: g.Handler.WithAttrs(a), min: g.min}
}

func (g *gate) WithGroup(name string) slog.Handler {
	return &gate{Handler: g.Handler.WithGroup(name), min: g.min}
}

// Lambda's application log levels, least severe first.
var lambdaLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

func rank(level string) int {
	for i, l := range lambdaLevels {
		if l == level {
			return i
		}
	}
	return -1
}

// LambdaLevel is the level Lambda's filter gives one application log line:
// the JSON object's "level" when it is a valid level and the line carries a
// valid RFC 3339 "timestamp"; INFO otherwise (no level, an invalid one, no
// valid timestamp, or not a JSON object).
func LambdaLevel(line string) string {
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		return "INFO"
	}
	level, _ := rec["level"].(string)
	level = strings.ToUpper(level)
	if rank(level) < 0 {
		return "INFO"
	}
	ts, _ := rec["timestamp"].(string)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		return "INFO"
	}
	return level
}

// LambdaKeeps reports whether Lambda's filter at applicationLogLevel sends
// the line to CloudWatch Logs: its level is at least the filter's.
func LambdaKeeps(line, applicationLogLevel string) bool {
	return rank(LambdaLevel(line)) >= rank(strings.ToUpper(applicationLogLevel))
}

// Case is one allowed value of the template's LogLevel parameter and what
// it deploys for a function: Lambda's filter (ApplicationLogLevel) and the
// function's own level (DHMC_LOG_LEVEL).
type Case struct {
	Param, Filter, Own string
}

// Env is the environment Lambda gives the function in this case.
func (c Case) Env() []string {
	return []string{"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=" + c.Filter, EnvLevel + "=" + c.Own}
}

// Filtered applies Lambda's filter at c.Filter to a function's output (its
// JSON lines; other lines are the emulator's own) and returns the metric
// (EMF) records and the other records that reach CloudWatch Logs, and the
// metric records that do not.
func (c Case) Filtered(output string) (metrics, others, droppedMetrics []string) {
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]json.RawMessage
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		_, emf := rec["_aws"]
		keep := LambdaKeeps(line, c.Filter)
		switch {
		case emf && keep:
			metrics = append(metrics, line)
		case emf:
			droppedMetrics = append(droppedMetrics, line)
		case keep:
			others = append(others, line)
		}
	}
	return metrics, others, droppedMetrics
}
