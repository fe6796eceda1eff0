// Package fleetseed fills the AWS emulator with a synthetic EC2 fleet for the
// fleet readiness report's tests, benchmark and demo: deterministic from a
// seed, with chosen proportions of every reason DHMC cannot manage an
// instance, and the counts a correct report must find. It knows nothing of
// the report's code: its expectations are an independent oracle.
package fleetseed

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

// Reason names, as the report spells them.
const (
	OldAgent      = "old-agent"
	IMDSv1        = "imdsv1-allowed"
	NotRegistered = "not-registered"
	NotPinging    = "not-pinging"
	ProfileSSM    = "profile-grants-ssm"
	DHMCOff       = "dhmc-off"
)

// Spec says what fleet to make. The proportions are fractions of the
// running instances (rounded down); each such instance has exactly one of
// those properties, the rest none (ready). IMDSv1 is hygiene, not a reason:
// those instances are ready (DHMC works with HttpTokens optional) and
// counted under Hygiene. Instances in a DHMCOff Region have dhmc-off as well.
type Spec struct {
	Seed      uint64
	Account   string   // default awsemu.DefaultAccount
	Regions   []string // instances are spread over them round-robin
	Instances int      // running instances in all
	// Proportions of running instances with each reason.
	OldAgent, IMDSv1, NotRegistered, NotPinging, ProfileSSM float64
	// DHMCOff are Regions whose DHMC setting stays off; in every other
	// Region the setting names the default DHMC role.
	DHMCOff []string
	// StoppedPerRegion adds stopped instances (registered with SSM, which
	// does not list them while stopped): the report must not count them.
	StoppedPerRegion int
}

// Counts is what a report must find in one Region, or in all.
type Counts struct {
	Running, ManagedNodes, Ready int
	Reasons                      map[string]int
	// Hygiene counts imdsv1-allowed, ready or not.
	Hygiene map[string]int
}

// Expected is the oracle: counts per Region and in all, and the migration
// candidates (instance profile ARN → running instances using it).
type Expected struct {
	Regions   map[string]Counts
	Total     Counts
	Migration map[string]int
	// ByReason lists the instance IDs with each reason or hygiene item, in
	// all Regions.
	ByReason map[string][]string
}

// DHMC role setting value for the Regions where it is on.
const SettingValue = "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"

// The agent versions the fleet runs. 3.2.1000.0 is newer than 3.2.582.0 but
// sorts before it as text: a report comparing versions as strings fails.
var (
	currentAgents = []string{"3.2.582.0", "3.2.1000.0", "3.3.1611.0", awsemu.LatestAgentVersion}
	oldAgents     = []string{"3.2.532.0", "3.2.57.0", "3.1.1732.0", "2.3.1319.0"}
)

// profile is one instance profile the fleet uses, with what it grants.
type profile struct {
	name     string
	grants   bool // ssm:UpdateInstanceInformation, after Denies
	attached []string
	inline   map[string]string
	customer string // a customer managed policy document, attached
}

const (
	allowSSMStar  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}`
	allowSSMWild  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","ssm:Update*"],"Resource":"*"}]}`
	denyUpdate    = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ssm:UpdateInstanceInformation","Resource":"*"}]}`
	appBucketRead = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::app-bucket/*"}]}`
)

func awsPolicy(p string) string { return "arn:aws:iam::aws:policy/" + p }

// profiles: the first five grant ssm:UpdateInstanceInformation in the ways
// real fleets do; the last two do not (one only because a Deny wins).
var profiles = []profile{
	{name: "app-ssm-core", grants: true, attached: []string{awsPolicy("AmazonSSMManagedInstanceCore"), awsPolicy("CloudWatchAgentServerPolicy")}},
	{name: "legacy-ec2-role-for-ssm", grants: true, attached: []string{awsPolicy("service-role/AmazonEC2RoleforSSM")}},
	{name: "batch-inline-ssm-star", grants: true, inline: map[string]string{"ssm-everything": allowSSMStar}},
	{name: "etl-customer-ssm-update", grants: true, customer: allowSSMWild},
	{name: "ops-admin", grants: true, attached: []string{awsPolicy("AdministratorAccess")}},
	{name: "web-cloudwatch-only", attached: []string{awsPolicy("CloudWatchAgentServerPolicy"), awsPolicy("AmazonS3ReadOnlyAccess")}, inline: map[string]string{"bucket": appBucketRead}},
	{name: "api-core-denied", attached: []string{awsPolicy("AmazonSSMManagedInstanceCore")}, inline: map[string]string{"no-ssm-registration": denyUpdate}},
}

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// Seed puts the fleet into emu and returns what a report must find.
func Seed(emu *awsemu.Server, spec Spec) Expected {
	acct := spec.Account
	if acct == "" {
		acct = awsemu.DefaultAccount
	}
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))

	var granting, clean []string // profile ARNs
	for _, p := range profiles {
		role := awsemu.Role{Name: p.name + "-role", TrustPolicy: trust, AttachedPolicies: slices.Clone(p.attached), InlinePolicies: p.inline}
		if p.customer != "" {
			role.AttachedPolicies = append(role.AttachedPolicies,
				emu.CreatePolicyWithDocument(acct, "/teams/", p.name+"-policy", p.customer))
		}
		emu.PutRole(acct, role)
		arn := emu.PutInstanceProfile(acct, awsemu.InstanceProfile{Name: p.name, Roles: []string{role.Name}})
		if p.grants {
			granting = append(granting, arn)
		} else {
			clean = append(clean, arn)
		}
	}

	exp := Expected{Regions: map[string]Counts{}, Migration: map[string]int{}, ByReason: map[string][]string{},
		Total: Counts{Reasons: map[string]int{}, Hygiene: map[string]int{}}}
	type batch struct {
		instances []awsemu.Instance
		nodes     []awsemu.ManagedNode
	}
	batches := map[string]*batch{}
	for _, r := range spec.Regions {
		batches[r] = &batch{}
		exp.Regions[r] = Counts{Reasons: map[string]int{}, Hygiene: map[string]int{}}
		if !slices.Contains(spec.DHMCOff, r) {
			emu.SetSetting(acct, r, SettingValue)
		}
	}
	seen := map[string]bool{}
	newID := func() string {
		for {
			id := fmt.Sprintf("i-0%016x", rng.Uint64())
			if !seen[id] {
				seen[id] = true
				return id
			}
		}
	}
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	add := func(c *Counts, reason, id string) {
		c.Reasons[reason]++
		exp.Total.Reasons[reason]++
		exp.ByReason[reason] = append(exp.ByReason[reason], id)
	}

	// Exact shares (rounded down), shuffled: every reason with a share of at
	// least 1/Instances is present.
	reasons := make([]string, spec.Instances)
	next := 0
	for _, cut := range []struct {
		reason string
		share  float64
	}{{OldAgent, spec.OldAgent}, {IMDSv1, spec.IMDSv1}, {NotRegistered, spec.NotRegistered}, {NotPinging, spec.NotPinging}, {ProfileSSM, spec.ProfileSSM}} {
		for range int(cut.share * float64(spec.Instances)) {
			if next < len(reasons) {
				reasons[next] = cut.reason
				next++
			}
		}
	}
	rng.Shuffle(len(reasons), func(i, j int) { reasons[i], reasons[j] = reasons[j], reasons[i] })
	for i, reason := range reasons {
		region := spec.Regions[i%len(spec.Regions)]
		b := batches[region]
		c := exp.Regions[region]
		id := newID()
		in := awsemu.Instance{ID: id, Name: fmt.Sprintf("app-%05d", i)}
		node := &awsemu.ManagedNode{InstanceID: id, AgentVersion: pick(currentAgents), PlatformName: "Amazon Linux"}
		switch rng.IntN(3) { // a ready instance may have a clean profile or none
		case 0:
			in.InstanceProfileARN = pick(clean)
		case 1:
			in.InstanceProfileARN = clean[0]
		}
		if i%11 == 0 {
			in.Platform = "windows"
			node.PlatformType, node.PlatformName = "Windows", "Microsoft Windows Server 2022 Datacenter"
		}
		switch reason {
		case OldAgent:
			node.AgentVersion = pick(oldAgents)
		case IMDSv1:
			in.HTTPTokens = "optional"
		case NotRegistered:
			node = nil
		case NotPinging:
			node.PingStatus = pick([]string{"ConnectionLost", "Inactive"})
		case ProfileSSM:
			in.InstanceProfileARN = granting[rng.IntN(len(granting))]
			exp.Migration[in.InstanceProfileARN]++
		}
		c.Running++
		exp.Total.Running++
		switch reason {
		case "":
		case IMDSv1:
			c.Hygiene[reason]++
			exp.Total.Hygiene[reason]++
			exp.ByReason[reason] = append(exp.ByReason[reason], id)
		default:
			add(&c, reason, id)
		}
		if slices.Contains(spec.DHMCOff, region) {
			add(&c, DHMCOff, id)
		}
		if (reason == "" || reason == IMDSv1) && !slices.Contains(spec.DHMCOff, region) {
			c.Ready++
			exp.Total.Ready++
		}
		if node != nil {
			b.nodes = append(b.nodes, *node)
			c.ManagedNodes++
			exp.Total.ManagedNodes++
		}
		b.instances = append(b.instances, in)
		exp.Regions[region] = c
	}
	for _, r := range spec.Regions {
		b := batches[r]
		c := exp.Regions[r]
		for range spec.StoppedPerRegion {
			id := newID()
			b.instances = append(b.instances, awsemu.Instance{ID: id, State: "stopped", HTTPTokens: "optional"})
			// SSM keeps the node but does not list it while the instance
			// is stopped: it is not counted.
			b.nodes = append(b.nodes, awsemu.ManagedNode{InstanceID: id, AgentVersion: pick(oldAgents), PingStatus: "ConnectionLost"})
		}
		// A hybrid node: SSM lists it, but it is no EC2 instance.
		b.nodes = append(b.nodes, awsemu.ManagedNode{InstanceID: fmt.Sprintf("mi-0%016x", rng.Uint64()), AgentVersion: pick(currentAgents)})
		exp.Regions[r] = c
		emu.PutInstances(acct, r, b.instances)
		emu.PutManagedNodes(acct, r, b.nodes)
	}
	return exp
}

// Mixed is a fleet with every reason present, for the demo and end-to-end
// tests: n instances over regions, the first Region with DHMC off.
func Mixed(seed uint64, n int, regions []string) Spec {
	return Spec{
		Seed: seed, Regions: regions, Instances: n,
		OldAgent: 0.1, IMDSv1: 0.1, NotRegistered: 0.1, NotPinging: 0.1, ProfileSSM: 0.2,
		DHMCOff: regions[:1], StoppedPerRegion: 1,
	}
}
