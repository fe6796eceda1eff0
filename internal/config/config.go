// Package config turns the Lambda environment into a validated Config. Only
// main calls it, once, at start-up: a function with a bad variable must fail
// its init and never run half-configured.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/dhmc-guard/dhmc-guard/internal/central"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// The environment variables the function reads. The SAM template sets each
// from a parameter of the same meaning.
const (
	EnvTopicARN            = "DHMC_TOPIC_ARN"
	EnvFunctionRoleARN     = "DHMC_FUNCTION_ROLE_ARN"
	EnvRoleName            = "DHMC_ROLE_NAME"
	EnvRolePath            = "DHMC_ROLE_PATH"
	EnvRegions             = "DHMC_REGIONS"
	EnvMode                = "DHMC_MODE"
	EnvExtraPolicyARNs     = "DHMC_EXTRA_POLICY_ARNS"
	EnvPermissionsBoundary = "DHMC_PERMISSIONS_BOUNDARY_ARN"
	EnvParallelism         = "DHMC_PARALLELISM"
	EnvExcludedRegions     = "DHMC_EXCLUDED_REGIONS"
	EnvTakeOver            = "DHMC_TAKE_OVER"
	EnvRequireTrustCond    = "DHMC_REQUIRE_TRUST_CONDITION"
	EnvOrganizationID      = "DHMC_ORGANIZATION_ID"
	EnvLedgerTable         = "DHMC_LEDGER_TABLE"
	EnvLedgerTTLDays       = "DHMC_LEDGER_TTL_DAYS"
	EnvFailureQueueURL     = "DHMC_FAILURE_QUEUE_URL"
	EnvAlertWindowMinutes  = "DHMC_ALERT_WINDOW_MINUTES"
	EnvFlapBackoff         = "DHMC_FLAP_BACKOFF"
	EnvSecurityHubFindings = "DHMC_SECURITY_HUB_FINDINGS"
	EnvRegion              = "AWS_REGION"
)

// AllRegions is the DHMC_REGIONS value that means every Region enabled in
// the account, discovered at each run.
const AllRegions = "all"

// Config is everything the function needs besides credentials.
type Config struct {
	// Desired is the state to keep; account and partition come from the
	// topic's ARN, so nothing assumes the commercial partition.
	Desired dhmc.Desired
	// TopicARN is where alerts go.
	TopicARN string
	// FunctionRoleARN is the role the function runs as: CloudTrail events
	// made by it are its own repairs and are not acted on again.
	FunctionRoleARN string
	// HomeRegion is the Region the function runs in (AWS_REGION); IAM and
	// Account calls are signed there.
	HomeRegion string
	// Parallelism bounds concurrent per-Region calls.
	Parallelism int
	// LedgerTable is the run ledger's DynamoDB table; empty runs without
	// one (every alert sent, nothing remembered). LedgerRetention is how
	// long its items live.
	LedgerTable     string
	LedgerRetention time.Duration
	// FailureQueueURL receives a run's report when its alert cannot be
	// published.
	FailureQueueURL string
	// AlertWindow is the dedup window of a finding group; FlapBackoff stops
	// repairing a flapping item for one window.
	AlertWindow time.Duration
	FlapBackoff bool
	// Central is the optional central view.
	Central central.Config
	// SecurityHubFindings upserts one Security Hub finding per item
	// (securityhub) into the home Region's Security Hub.
	SecurityHubFindings bool
}

// VarError names the variable that is wrong; it shows up as errorType in
// Lambda's init error output.
type VarError struct {
	Var     string
	Problem string
}

func (e *VarError) Error() string { return e.Var + ": " + e.Problem }

// Load reads the configuration through getenv (os.Getenv in main) and
// returns every problem at once.
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(v, format string, a ...any) {
		errs = append(errs, &VarError{Var: v, Problem: fmt.Sprintf(format, a...)})
	}
	get := func(v, def string) string {
		if s := strings.TrimSpace(getenv(v)); s != "" {
			return s
		}
		return def
	}

	c := Config{
		TopicARN:        get(EnvTopicARN, ""),
		FunctionRoleARN: get(EnvFunctionRoleARN, ""),
		HomeRegion:      get(EnvRegion, ""),
		Parallelism:     reconcile.DefaultParallelism,
	}
	d := dhmc.Desired{
		RoleName:               get(EnvRoleName, dhmc.DefaultRoleName),
		RolePath:               get(EnvRolePath, dhmc.DefaultRolePath),
		Mode:                   dhmc.Mode(strings.ToLower(get(EnvMode, string(dhmc.ModeEnforce)))),
		PermissionsBoundaryARN: get(EnvPermissionsBoundary, ""),
		ExtraPolicyARNs:        splitList(getenv(EnvExtraPolicyARNs)),
		ExcludedRegions:        splitList(getenv(EnvExcludedRegions)),
		Trust:                  dhmc.TrustRules{OrganizationID: get(EnvOrganizationID, "")},
	}
	d.TakeOver = boolVar(get(EnvTakeOver, "false"), EnvTakeOver, bad)
	d.Trust.RequireCondition = boolVar(get(EnvRequireTrustCond, "false"), EnvRequireTrustCond, bad)

	topic, err := arn.Parse(c.TopicARN)
	switch {
	case c.TopicARN == "":
		bad(EnvTopicARN, "required: the SNS topic ARN alerts are published to")
	case err != nil || topic.Service != "sns" || topic.AccountID == "" || topic.Region == "":
		bad(EnvTopicARN, "%q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", c.TopicARN)
	default:
		d.Partition, d.AccountID = topic.Partition, topic.AccountID
	}

	role, err := arn.Parse(c.FunctionRoleARN)
	switch {
	case c.FunctionRoleARN == "":
		bad(EnvFunctionRoleARN, "required: the ARN of the role this function runs as (loop protection)")
	case err != nil || role.Service != "iam" || !strings.HasPrefix(role.Resource, "role/"):
		bad(EnvFunctionRoleARN, "%q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", c.FunctionRoleARN)
	case d.AccountID != "" && (role.AccountID != d.AccountID || role.Partition != d.Partition):
		bad(EnvFunctionRoleARN, "%q is not in the topic's account %s (%s)", c.FunctionRoleARN, d.AccountID, d.Partition)
	}

	if c.HomeRegion == "" {
		bad(EnvRegion, "required: the Region the function runs in (Lambda sets it)")
	} else if !dhmc.ValidRegion(c.HomeRegion) {
		bad(EnvRegion, "%q is not a Region code", c.HomeRegion)
	}

	if regions := get(EnvRegions, AllRegions); !strings.EqualFold(regions, AllRegions) {
		d.Regions = splitList(regions)
		slices.Sort(d.Regions)
		d.Regions = slices.Compact(d.Regions)
		if len(d.Regions) == 0 {
			bad(EnvRegions, "%q names no Region: give %q or a comma-separated list", regions, AllRegions)
		}
		for _, r := range d.Regions {
			if !dhmc.ValidRegion(r) {
				bad(EnvRegions, "%q is not a Region code such as eu-west-1", r)
			}
		}
	}

	c.LedgerTable = get(EnvLedgerTable, "")
	if ttl, err := ledger.ParseRetentionDays(get(EnvLedgerTTLDays, "")); err != nil {
		bad(EnvLedgerTTLDays, "%s", err)
	} else {
		c.LedgerRetention = ttl
	}
	if u := get(EnvFailureQueueURL, ""); u != "" {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" && pu.Scheme != "http" || pu.Host == "" {
			bad(EnvFailureQueueURL, "%q is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", u)
		} else {
			c.FailureQueueURL = u
		}
	}
	c.AlertWindow = time.Hour
	if w := get(EnvAlertWindowMinutes, ""); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 || n > 24*60 {
			bad(EnvAlertWindowMinutes, "%q must be a whole number of minutes from 1 to 1440", w)
		} else {
			c.AlertWindow = time.Duration(n) * time.Minute
		}
	}
	c.FlapBackoff = boolVar(get(EnvFlapBackoff, "false"), EnvFlapBackoff, bad)
	c.SecurityHubFindings = boolVar(get(EnvSecurityHubFindings, "false"), EnvSecurityHubFindings, bad)
	if cc, err := central.LoadConfig(getenv); err != nil {
		errs = append(errs, err)
	} else {
		c.Central = cc
	}

	if p := get(EnvParallelism, ""); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 64 {
			bad(EnvParallelism, "%q must be a whole number from 1 to 64", p)
		} else {
			c.Parallelism = n
		}
	}

	// The domain validates its own fields; attribute each problem to the
	// variable it came from.
	checkField := func(v string, mutate func(*dhmc.Desired)) {
		probe := dhmc.Desired{Partition: "aws", AccountID: "000000000000", RoleName: "x", RolePath: "/", Mode: dhmc.ModeEnforce}
		mutate(&probe)
		if err := probe.Validate(); err != nil {
			bad(v, "%s", err)
		}
	}
	checkField(EnvRoleName, func(p *dhmc.Desired) { p.RoleName = d.RoleName })
	checkField(EnvRolePath, func(p *dhmc.Desired) { p.RolePath = d.RolePath })
	checkField(EnvMode, func(p *dhmc.Desired) { p.Mode = d.Mode })
	checkField(EnvExtraPolicyARNs, func(p *dhmc.Desired) { p.ExtraPolicyARNs = d.ExtraPolicyARNs })
	checkField(EnvPermissionsBoundary, func(p *dhmc.Desired) { p.PermissionsBoundaryARN = d.PermissionsBoundaryARN })
	checkField(EnvExcludedRegions, func(p *dhmc.Desired) { p.ExcludedRegions = d.ExcludedRegions })
	checkField(EnvOrganizationID, func(p *dhmc.Desired) { p.Trust.OrganizationID = d.Trust.OrganizationID })
	for _, r := range d.ExcludedRegions {
		if slices.Contains(d.Regions, r) {
			bad(EnvExcludedRegions, "%q is both managed (%s) and excluded", r, EnvRegions)
		}
	}

	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	if err := d.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid configuration: %w", err)
	}
	c.Desired = d
	return c, nil
}

// boolVar reads "true" or "false" (any case); anything else is a problem
// named after the variable, never a silent false.
func boolVar(v, name string, bad func(v, format string, a ...any)) bool {
	switch strings.ToLower(v) {
	case "true":
		return true
	case "false":
		return false
	}
	bad(name, "%q must be true or false", v)
	return false
}

// splitList splits a comma-separated list, dropping blanks, so "a, b," is [a b].
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
