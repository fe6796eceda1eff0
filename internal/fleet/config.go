package fleet

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// The environment the fleet function reads (the SAM template sets each).
const (
	EnvTopicARN    = "DHMC_TOPIC_ARN"    // required: the digest's topic; account and partition come from it
	EnvRegions     = "DHMC_REGIONS"      // "all" (default) or eu-west-1,us-east-1
	EnvParallelism = "DHMC_PARALLELISM"  // Regions read at once, 1..64 (default 20)
	EnvSample      = "DHMC_FLEET_SAMPLE" // instance IDs kept per list, 1..1000 (default 20)
	EnvRegion      = "AWS_REGION"
)

// Config is the fleet function's configuration.
type Config struct {
	TopicARN, AccountID, Partition, HomeRegion string
	// Regions nil means every enabled Region.
	Regions     []string
	Parallelism int
	Sample      int
}

// ConfigError names the variable that is wrong; Lambda shows it as the
// init error's errorType.
type ConfigError struct{ Var, Problem string }

func (e *ConfigError) Error() string { return e.Var + ": " + e.Problem }

// LoadConfig reads and checks the environment, reporting every bad variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(v, format string, a ...any) {
		errs = append(errs, &ConfigError{Var: v, Problem: fmt.Sprintf(format, a...)})
	}
	c := Config{TopicARN: getenv(EnvTopicARN), HomeRegion: getenv(EnvRegion), Parallelism: DefaultParallelism, Sample: DefaultSample}
	if a, err := arn.Parse(c.TopicARN); err != nil || a.Service != "sns" || len(a.AccountID) != 12 {
		bad(EnvTopicARN, "%q is not an SNS topic ARN", c.TopicARN)
	} else {
		c.AccountID, c.Partition = a.AccountID, a.Partition
	}
	if !dhmc.ValidRegion(c.HomeRegion) {
		bad(EnvRegion, "%q is not a Region code", c.HomeRegion)
	}
	if v := strings.TrimSpace(getenv(EnvRegions)); v != "" && v != "all" {
		for _, r := range strings.Split(v, ",") {
			r = strings.TrimSpace(r)
			switch {
			case !dhmc.ValidRegion(r):
				bad(EnvRegions, "%q is not a Region code (want \"all\" or a list such as eu-west-1,us-east-1)", r)
			case !slices.Contains(c.Regions, r):
				c.Regions = append(c.Regions, r)
			}
		}
		if len(c.Regions) > MaxRegions {
			bad(EnvRegions, "%d Regions, at most %d", len(c.Regions), MaxRegions)
		}
	}
	number := func(v string, lo, hi int, dst *int) {
		s := getenv(v)
		if s == "" {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			bad(v, "%q is not a whole number from %d to %d", s, lo, hi)
			return
		}
		*dst = n
	}
	number(EnvParallelism, 1, 64, &c.Parallelism)
	number(EnvSample, 1, 1000, &c.Sample)
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("fleet function configuration: %w", err)
	}
	return c, nil
}
