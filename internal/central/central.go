// Package central publishes what one account's guard saw to the
// organisation's central (security or audit) account, besides the account's
// own alerts: every run that found something and a daily summary, as custom
// EventBridge events on a central event bus (infra/org/central.yaml) and,
// optionally, as readable alerts on a central SNS topic. One on-call then
// sees the whole organisation.
//
// The builders (RunEvent, SummaryEvent, BuildSummary) are pure; Publisher
// is the thin layer that calls AWS.
package central

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Source and detail types of the events. Rules in the central account match
// on them: keep them stable.
const (
	Source                 = "dhmc-guard"
	DetailTypeRunReport    = "DHMC Guard Run Report"
	DetailTypeDailySummary = "DHMC Guard Daily Summary"
)

// Environment variables read by LoadConfig.
const (
	EnvBusARN   = "DHMC_CENTRAL_BUS_ARN"
	EnvTopicARN = "DHMC_CENTRAL_TOPIC_ARN"
)

// Config says where to publish; an empty ARN turns that target off.
type Config struct {
	// BusARN is the central event bus,
	// arn:<partition>:events:<region>:<account>:event-bus/<name>.
	BusARN string
	// TopicARN is the central SNS topic (standard, not FIFO).
	TopicARN string
}

// The ARN patterns are compiled on first use: most deployments set no
// central target, and their {1,256} repeats cost a third of a megabyte and
// half a millisecond of every cold start (issue 17).
var (
	busARN = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:aws(-[a-z]+)*:events:([a-z]{2}(-[a-z]+)+-[0-9]+):[0-9]{12}:event-bus/[A-Za-z0-9._\-/]{1,256}$`)
	})
	topicARN = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:aws(-[a-z]+)*:sns:([a-z]{2}(-[a-z]+)+-[0-9]+):[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
	})
)

// LoadConfig reads and validates the central targets from the environment,
// reporting every problem at once. Nothing set is a valid, empty Config.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		BusARN:   strings.TrimSpace(getenv(EnvBusARN)),
		TopicARN: strings.TrimSpace(getenv(EnvTopicARN)),
	}
	var errs []error
	if c.BusARN != "" && !busARN().MatchString(c.BusARN) {
		errs = append(errs, fmt.Errorf("%s %q is not an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)", EnvBusARN, c.BusARN))
	}
	switch {
	case c.TopicARN == "":
	case !topicARN().MatchString(c.TopicARN):
		errs = append(errs, fmt.Errorf("%s %q is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)", EnvTopicARN, c.TopicARN))
	case strings.HasSuffix(c.TopicARN, ".fifo"):
		// FIFO topics need a message group ID on every publish; alerts
		// have no order worth paying for.
		errs = append(errs, fmt.Errorf("%s %q is a FIFO topic; use a standard topic", EnvTopicARN, c.TopicARN))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Enabled reports whether anything is published centrally.
func (c Config) Enabled() bool { return c.BusARN != "" || c.TopicARN != "" }

// BusRegion is the Region of the bus: PutEvents goes to that Region's
// endpoint, so the EventBridge client must be made for it.
func (c Config) BusRegion() string { return regionOf(c.BusARN) }

// TopicRegion is the Region of the topic, for the SNS client.
func (c Config) TopicRegion() string { return regionOf(c.TopicARN) }

func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}
