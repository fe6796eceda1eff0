package fleet

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// DefaultSample is how many instance IDs a report keeps per reason and
// Region, and per migration candidate; the rest are counted.
const DefaultSample = 20

// Classify says why DHMC cannot manage one running instance, in Reasons
// order; none means it is ready. node is nil when Systems Manager does not
// know the instance; profile is nil when it has no instance profile.
func Classify(in Instance, node *Node, profile *Profile, d DHMC) []Reason {
	var out []Reason
	if d.State == DHMCOff {
		out = append(out, ReasonDHMCOff)
	}
	if profile != nil {
		if profile.Err != "" {
			out = append(out, ReasonProfileUnreadable)
		} else if ok, _ := profile.Grants(in.ARN()); ok {
			out = append(out, ReasonProfileGrantsSSM)
		}
	}
	if node != nil && agentTooOld(node.AgentVersion) {
		out = append(out, ReasonOldAgent)
	}
	// Only a disabled endpoint keeps the agent from identifying the
	// instance; HttpTokens "optional" still serves IMDSv2 (HygieneOf).
	if in.HTTPEndpoint == "disabled" {
		out = append(out, ReasonIMDSDisabled)
	}
	switch {
	case node == nil:
		out = append(out, ReasonNotRegistered)
	case node.PingStatus != "Online":
		out = append(out, ReasonNotPinging)
	}
	return out
}

// HygieneOf says what is worth fixing on one running instance although it
// does not keep DHMC out, in Hygiene order.
func HygieneOf(in Instance) []Reason {
	if in.HTTPEndpoint != "disabled" && in.HTTPTokens != "required" {
		// Anything but "required" lets IMDSv1 through; with the endpoint
		// off there is no IMDS to harden.
		return []Reason{ReasonIMDSv1}
	}
	return nil
}

// Tally adds one Region's instances up as they are read, keeping only
// counts and a sample of IDs, so memory does not grow with the fleet.
// It is not safe for concurrent use: one per Region.
type Tally struct {
	report RegionReport
	keep   int
	// candidates by profile ARN.
	candidates map[string]*Candidate
}

// NewTally starts a Region's tally; keep is how many IDs to keep per list
// (DefaultSample when 0 or less).
func NewTally(region string, d DHMC, keep int) *Tally {
	if keep <= 0 {
		keep = DefaultSample
	}
	return &Tally{
		report: RegionReport{Region: region, DHMC: d, Reasons: map[Reason]*Sample{}, Hygiene: map[Reason]*Sample{}},
		keep:   keep, candidates: map[string]*Candidate{},
	}
}

// AddNode counts one EC2 managed node Systems Manager lists.
func (t *Tally) AddNode() { t.report.ManagedNodes++ }

// AddInstance classifies one running instance and counts it.
func (t *Tally) AddInstance(in Instance, node *Node, profile *Profile) {
	r := &t.report
	r.Running++
	if node != nil && node.PingStatus == "Online" {
		r.Online++
	}
	for _, h := range HygieneOf(in) {
		sampleOf(r.Hygiene, h).add(in.ID, t.keep)
	}
	reasons := Classify(in, node, profile, r.DHMC)
	if len(reasons) == 0 {
		r.Ready++
		return
	}
	r.NotReady++
	for _, why := range reasons {
		sampleOf(r.Reasons, why).add(in.ID, t.keep)
		if why == ReasonProfileGrantsSSM || why == ReasonProfileUnreadable {
			t.candidate(profile, in).add(in.ID, t.keep)
		}
	}
}

func sampleOf(m map[Reason]*Sample, why Reason) *Sample {
	s := m[why]
	if s == nil {
		s = &Sample{}
		m[why] = s
	}
	return s
}

func (t *Tally) candidate(p *Profile, in Instance) *Candidate {
	c, ok := t.candidates[p.ARN]
	if !ok {
		c = &Candidate{InstanceProfile: p.ARN, Name: p.Name, Roles: p.Roles, Error: p.Err, Regions: []string{t.report.Region}}
		if p.Err == "" {
			_, c.GrantedBy = p.Grants(in.ARN())
		}
		t.candidates[p.ARN] = c
	}
	return c
}

// Fail records that the Region could not be read completely.
func (t *Tally) Fail(err error) { t.report.Error = err.Error() }

// Region returns the Region's report so far.
func (t *Tally) Region() RegionReport { return t.report }

// RegionFacts is one Region's observations held in memory, for Assess.
type RegionFacts struct {
	Region    string
	DHMC      DHMC
	Instances []Instance      // running
	Nodes     map[string]Node // EC2 managed nodes by instance ID
}

// Assess is the whole decision on facts held in memory: the report's
// Regions, totals and migration candidates. profiles are by ARN. The
// streaming reader reaches the same result through Tally and Merge.
func Assess(facts []RegionFacts, profiles map[string]*Profile, keep int) *Report {
	tallies := make([]*Tally, 0, len(facts))
	for _, f := range facts {
		t := NewTally(f.Region, f.DHMC, keep)
		for range f.Nodes {
			t.AddNode()
		}
		for _, in := range f.Instances {
			var node *Node
			if n, ok := f.Nodes[in.ID]; ok {
				node = &n
			}
			var p *Profile
			if in.ProfileARN != "" {
				p = profiles[in.ProfileARN]
				if p == nil {
					p = &Profile{ARN: in.ProfileARN, Name: profileName(in.ProfileARN), Err: "not observed"}
				}
			}
			t.AddInstance(in, node, p)
		}
		tallies = append(tallies, t)
	}
	r := &Report{Kind: ReportKind, MinAgentVersion: MinAgentVersion}
	Merge(r, tallies, keep)
	return r
}

// Merge puts the Regions' tallies into r: Regions sorted by name, totals,
// and the candidates merged across Regions (IAM is global), most instances
// first.
func Merge(r *Report, tallies []*Tally, keep int) {
	if keep <= 0 {
		keep = DefaultSample
	}
	r.Totals = Totals{Reasons: map[Reason]int{}, Hygiene: map[Reason]int{}}
	r.Regions = r.Regions[:0]
	merged := map[string]*Candidate{}
	for _, t := range tallies {
		x := t.report
		r.Regions = append(r.Regions, x)
		r.Totals.Running += x.Running
		r.Totals.ManagedNodes += x.ManagedNodes
		r.Totals.Online += x.Online
		r.Totals.Ready += x.Ready
		r.Totals.NotReady += x.NotReady
		for why, s := range x.Reasons {
			r.Totals.Reasons[why] += s.Count
		}
		for h, s := range x.Hygiene {
			r.Totals.Hygiene[h] += s.Count
		}
		for arn, c := range t.candidates {
			m, ok := merged[arn]
			if !ok {
				cp := *c
				cp.Regions = slices.Clone(c.Regions)
				cp.InstanceIDs = slices.Clone(c.InstanceIDs)
				merged[arn] = &cp
				continue
			}
			m.Regions = append(m.Regions, c.Regions...)
			m.Count += c.Count
			for _, id := range c.InstanceIDs {
				if len(m.InstanceIDs) < keep {
					m.InstanceIDs = append(m.InstanceIDs, id)
				} else {
					m.More++
				}
			}
			m.More += c.More
		}
	}
	slices.SortFunc(r.Regions, func(a, b RegionReport) int { return strings.Compare(a.Region, b.Region) })
	r.MigrationCandidates, r.UnreadableProfiles = nil, nil
	for _, arn := range slices.Sorted(maps.Keys(merged)) {
		c := merged[arn]
		slices.Sort(c.Regions)
		if c.Error != "" {
			r.UnreadableProfiles = append(r.UnreadableProfiles, *c)
		} else {
			r.MigrationCandidates = append(r.MigrationCandidates, *c)
		}
	}
	byCount := func(a, b Candidate) int { return cmp.Compare(b.Count, a.Count) }
	slices.SortStableFunc(r.MigrationCandidates, byCount)
	slices.SortStableFunc(r.UnreadableProfiles, byCount)
	if r.MigrationCandidates == nil {
		r.MigrationCandidates = []Candidate{}
	}
}

// profileName is the last segment of an instance profile ARN
// (arn:aws:iam::123456789012:instance-profile/path/name).
func profileName(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}
