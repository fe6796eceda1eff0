package fleet

import (
	"slices"
	"strings"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
		ok   bool
	}{
		{"3.2.582.0", "3.2.582.0", 0, true},
		{"3.2.1000.0", "3.2.582.0", 1, true}, // text order says the opposite
		{"3.2.57.0", "3.2.582.0", -1, true},
		{"3.3.0.0", "3.2.999.9", 1, true},
		{"3.2.582", "3.2.582.0", 0, true},
		{"10.0.0.0", "9.9.9.9", 1, true},
		{"", "3.2.582.0", 0, false},
		{"3.x.1.0", "3.2.582.0", 0, false},
		{"3..1", "3.2.582.0", 0, false},
	}
	for _, tt := range tests {
		got, ok := CompareVersions(tt.a, tt.b)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CompareVersions(%q, %q) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

const instanceARN = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0"

func TestProfileGrants(t *testing.T) {
	allow := func(action, resource string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + action + `,"Resource":` + resource + `}]}`
	}
	tests := []struct {
		name     string
		policies []Policy
		want     bool
		via      []string
	}{
		{"no policies", nil, false, nil},
		{"the exact action", []Policy{{Name: "p", Kind: PolicyInline, Role: "r", Document: allow(`"ssm:UpdateInstanceInformation"`, `"*"`)}}, true, []string{"p (inline on r)"}},
		{"ssm:*", []Policy{{Name: "p", Kind: PolicyCustomerManaged, Document: allow(`"ssm:*"`, `"*"`)}}, true, []string{"p (customer managed)"}},
		{"ssm:Update* in a list", []Policy{{Name: "p", Kind: PolicyInline, Document: allow(`["s3:GetObject","ssm:Update*"]`, `"*"`)}}, true, nil},
		{"case-insensitive action", []Policy{{Name: "p", Kind: PolicyInline, Document: allow(`"SSM:updateinstanceinformation"`, `"*"`)}}, true, nil},
		{"question-mark wildcard", []Policy{{Name: "p", Kind: PolicyInline, Document: allow(`"ssm:UpdateInstanceInformatio?"`, `"*"`)}}, true, nil},
		{"everything", []Policy{{Name: "p", Kind: PolicyInline, Document: allow(`"*"`, `"*"`)}}, true, nil},
		{"another ssm action", []Policy{{Name: "p", Kind: PolicyInline, Document: allow(`"ssm:GetParameter"`, `"*"`)}}, false, nil},
		{"scoped to other resources", []Policy{{Name: "p", Kind: PolicyInline, Document: allow(`"*"`, `"arn:aws:s3:::bucket/*"`)}}, false, nil},
		{"scoped to instances", []Policy{{Name: "p", Kind: PolicyInline, Document: allow(`"ssm:*"`, `"arn:aws:ec2:*:*:instance/*"`)}}, true, nil},
		{"scoped to other instances", []Policy{{Name: "p", Kind: PolicyInline, Document: allow(`"ssm:*"`, `"arn:aws:ec2:us-east-1:*:instance/*"`)}}, false, nil},
		{"NotAction that leaves it in (PowerUserAccess)", []Policy{{Name: "p", Kind: PolicyAWSManaged,
			Document: `{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}`}}, true, nil},
		{"NotAction that takes it out", []Policy{{Name: "p", Kind: PolicyInline,
			Document: `{"Statement":{"Effect":"Allow","NotAction":"ssm:*","Resource":"*"}}`}}, false, nil},
		{"NotResource that leaves instances in", []Policy{{Name: "p", Kind: PolicyInline,
			Document: `{"Statement":{"Effect":"Allow","Action":"ssm:*","NotResource":"arn:aws:s3:::*"}}`}}, true, nil},
		{"a Deny elsewhere wins", []Policy{
			{Name: "core", Kind: PolicyAWSManaged, Document: allow(`"ssm:UpdateInstanceInformation"`, `"*"`)},
			{Name: "deny", Kind: PolicyInline, Document: `{"Statement":[{"Effect":"Deny","Action":"ssm:Update*","Resource":"*"}]}`},
		}, false, nil},
		{"a conditional Deny is not trusted", []Policy{
			{Name: "core", Kind: PolicyAWSManaged, Document: allow(`"ssm:UpdateInstanceInformation"`, `"*"`)},
			{Name: "deny", Kind: PolicyInline, Document: `{"Statement":[{"Effect":"Deny","Action":"ssm:*","Resource":"*","Condition":{"Bool":{"aws:ViaAWSService":"false"}}}]}`},
		}, true, []string{"core (AWS managed)"}},
		{"a conditional Allow counts", []Policy{{Name: "p", Kind: PolicyInline,
			Document: `{"Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`}}, true, nil},
		{"a policy variable in the resource", []Policy{{Name: "p", Kind: PolicyInline, Document: allow(`"ssm:*"`, `"arn:aws:ec2:${aws:RequestedRegion}:*:instance/*"`)}}, true, nil},
		{"two granting policies", []Policy{
			{Name: "a", Kind: PolicyAWSManaged, Document: allow(`"ssm:*"`, `"*"`)},
			{Name: "b", Kind: PolicyInline, Role: "r", Document: allow(`"*"`, `"*"`)},
		}, true, []string{"a (AWS managed)", "b (inline on r)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewProfile("arn:aws:iam::123456789012:instance-profile/x", "x", []string{"r"}, tt.policies)
			if err != nil {
				t.Fatal(err)
			}
			got, via := p.Grants(instanceARN)
			if got != tt.want {
				t.Errorf("Grants = %v, want %v", got, tt.want)
			}
			if tt.via != nil && !slices.Equal(via, tt.via) {
				t.Errorf("via = %v, want %v", via, tt.via)
			}
		})
	}
}

func TestProfileRefusesWhatIsNoPolicy(t *testing.T) {
	for _, doc := range []string{`not json`, `{"Version":"2012-10-17"}`, `{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`, `{"Statement":[{"Effect":"Allow","Action":5,"Resource":"*"}]}`} {
		if _, err := NewProfile("arn", "x", nil, []Policy{{Name: "bad", Kind: PolicyInline, Document: doc}}); err == nil {
			t.Errorf("%s: no error", doc)
		}
	}
}

func mustProfile(t *testing.T, grants bool) *Profile {
	t.Helper()
	action := `"s3:GetObject"`
	if grants {
		action = `"ssm:*"`
	}
	p, err := NewProfile("arn:aws:iam::123456789012:instance-profile/app", "app", []string{"app-role"},
		[]Policy{{Name: "p", Kind: PolicyInline, Role: "app-role", Document: `{"Statement":{"Effect":"Allow","Action":` + action + `,"Resource":"*"}}`}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClassify(t *testing.T) {
	on := DHMC{State: DHMCOn, Role: "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"}
	good := Instance{ID: "i-1", Region: "eu-west-1", AccountID: "123456789012", HTTPTokens: "required", HTTPEndpoint: "enabled"}
	online := &Node{PingStatus: "Online", AgentVersion: "3.2.582.0"}
	with := func(f func(*Instance)) Instance { in := good; f(&in); return in }
	tests := []struct {
		name    string
		in      Instance
		node    *Node
		profile *Profile
		dhmc    DHMC
		want    []Reason
	}{
		{"ready without a profile", good, online, nil, on, nil},
		{"ready with a clean profile", good, online, mustProfile(t, false), on, nil},
		{"ready on a newer agent that sorts before as text", good, &Node{PingStatus: "Online", AgentVersion: "3.2.1000.0"}, nil, on, nil},
		{"DHMC off", good, online, nil, DHMC{State: DHMCOff}, []Reason{ReasonDHMCOff}},
		{"DHMC unknown is no reason by itself", good, online, nil, DHMC{State: DHMCUnknown}, nil},
		{"profile grants", good, online, mustProfile(t, true), on, []Reason{ReasonProfileGrantsSSM}},
		{"profile unreadable", good, online, &Profile{ARN: "a", Err: "AccessDenied"}, on, []Reason{ReasonProfileUnreadable}},
		{"old agent", good, &Node{PingStatus: "Online", AgentVersion: "3.2.532.0"}, nil, on, []Reason{ReasonOldAgent}},
		{"agent version unreadable", good, &Node{PingStatus: "Online", AgentVersion: ""}, nil, on, []Reason{ReasonOldAgent}},
		// HttpTokens optional still serves IMDSv2: hygiene, not a reason
		// (issue 16: Online, agent 3.2.1000.0, no profile, DHMC on).
		{"IMDSv1 allowed is ready", with(func(i *Instance) { i.HTTPTokens = "optional" }), &Node{PingStatus: "Online", AgentVersion: "3.2.1000.0"}, nil, on, nil},
		{"IMDS disabled", with(func(i *Instance) { i.HTTPEndpoint = "disabled"; i.HTTPTokens = "optional" }), online, nil, on, []Reason{ReasonIMDSDisabled}},
		{"not registered", good, nil, nil, on, []Reason{ReasonNotRegistered}},
		{"not pinging", good, &Node{PingStatus: "ConnectionLost", AgentVersion: "3.3.1.0"}, nil, on, []Reason{ReasonNotPinging}},
		{"everything at once", with(func(i *Instance) { i.HTTPTokens = "optional" }), &Node{PingStatus: "Inactive", AgentVersion: "2.3.0.0"}, mustProfile(t, true), DHMC{State: DHMCOff},
			[]Reason{ReasonDHMCOff, ReasonProfileGrantsSSM, ReasonOldAgent, ReasonNotPinging}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.in, tt.node, tt.profile, tt.dhmc); !slices.Equal(got, tt.want) {
				t.Errorf("Classify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAssessCountsCapsAndMergesCandidates(t *testing.T) {
	grant := mustProfile(t, true)
	on := DHMC{State: DHMCOn, Role: "r"}
	var facts []RegionFacts
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		f := RegionFacts{Region: region, DHMC: on, Nodes: map[string]Node{}}
		for i := range 5 {
			id := region + "-i" + string(rune('a'+i))
			f.Instances = append(f.Instances, Instance{ID: id, Region: region, AccountID: "123456789012", HTTPTokens: "required", HTTPEndpoint: "enabled", ProfileARN: grant.ARN})
			f.Nodes[id] = Node{PingStatus: "Online", AgentVersion: "3.3.0.0"}
		}
		f.Instances = append(f.Instances, Instance{ID: region + "-ready", Region: region, HTTPTokens: "required"})
		f.Nodes[region+"-ready"] = Node{PingStatus: "Online", AgentVersion: "3.3.0.0"}
		f.Nodes[region+"-stopped"] = Node{PingStatus: "ConnectionLost", AgentVersion: "3.3.0.0"}
		facts = append(facts, f)
	}
	r := Assess(facts, map[string]*Profile{grant.ARN: grant}, 3)

	if got := []string{r.Regions[0].Region, r.Regions[1].Region}; !slices.Equal(got, []string{"eu-west-1", "us-east-1"}) {
		t.Errorf("Regions %v, want sorted", got)
	}
	want := Totals{Running: 12, ManagedNodes: 14, Online: 12, Ready: 2, NotReady: 10, Reasons: map[Reason]int{ReasonProfileGrantsSSM: 10}}
	if got := r.Totals; got.Running != want.Running || got.ManagedNodes != want.ManagedNodes || got.Online != want.Online ||
		got.Ready != want.Ready || got.NotReady != want.NotReady || got.Reasons[ReasonProfileGrantsSSM] != 10 || len(got.Reasons) != 1 {
		t.Errorf("totals %+v, want %+v", got, want)
	}
	s := r.Regions[0].Reasons[ReasonProfileGrantsSSM]
	if s.Count != 5 || len(s.InstanceIDs) != 3 || s.More != 2 {
		t.Errorf("sample %+v, want 5 counted, 3 kept, 2 more", s)
	}
	if len(r.MigrationCandidates) != 1 {
		t.Fatalf("candidates %+v", r.MigrationCandidates)
	}
	c := r.MigrationCandidates[0]
	if c.Count != 10 || len(c.InstanceIDs) != 3 || c.More != 7 || !slices.Equal(c.Regions, []string{"eu-west-1", "us-east-1"}) ||
		!slices.Equal(c.GrantedBy, []string{"p (inline on app-role)"}) || c.Name != "app" {
		t.Errorf("candidate %+v", c)
	}
}

func TestHygieneOf(t *testing.T) {
	for _, tt := range []struct {
		tokens, endpoint string
		want             []Reason
	}{
		{"required", "enabled", nil},
		{"optional", "enabled", []Reason{ReasonIMDSv1}},
		{"", "enabled", []Reason{ReasonIMDSv1}}, // anything but required lets IMDSv1 through
		{"optional", "disabled", nil},           // no IMDS at all: a reason, not hygiene
	} {
		if got := HygieneOf(Instance{HTTPTokens: tt.tokens, HTTPEndpoint: tt.endpoint}); !slices.Equal(got, tt.want) {
			t.Errorf("HygieneOf(%s, %s) = %v, want %v", tt.tokens, tt.endpoint, got, tt.want)
		}
	}
}

func TestHygieneIsCountedReadyOrNot(t *testing.T) {
	on := DHMC{State: DHMCOn, Role: "r"}
	f := RegionFacts{Region: "eu-west-1", DHMC: on, Nodes: map[string]Node{"i-ready": {PingStatus: "Online", AgentVersion: "3.2.1000.0"}}}
	f.Instances = []Instance{
		{ID: "i-ready", Region: "eu-west-1", AccountID: "123456789012", HTTPTokens: "optional", HTTPEndpoint: "enabled"},
		{ID: "i-unknown", Region: "eu-west-1", AccountID: "123456789012", HTTPTokens: "optional", HTTPEndpoint: "enabled"},
	}
	r := Assess([]RegionFacts{f}, nil, 5)
	if r.Totals.Ready != 1 || r.Totals.NotReady != 1 || r.Totals.Hygiene[ReasonIMDSv1] != 2 || r.Totals.Reasons[ReasonIMDSv1] != 0 {
		t.Errorf("totals %+v: want 1 ready, 1 not registered, 2 with IMDSv1 allowed as hygiene", r.Totals)
	}
	if s := r.Regions[0].Hygiene[ReasonIMDSv1]; s == nil || !slices.Equal(s.InstanceIDs, []string{"i-ready", "i-unknown"}) {
		t.Errorf("hygiene sample %+v", s)
	}
}

func TestReasonsAreDescribed(t *testing.T) {
	for _, r := range append(slices.Clone(Reasons), Hygiene...) {
		if d := r.Describe(); d == string(r) || strings.TrimSpace(d) == "" {
			t.Errorf("%s has no description", r)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	good := map[string]string{EnvTopicARN: "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts", EnvRegion: "us-gov-west-1"}
	c, err := LoadConfig(env(good))
	if err != nil || c.AccountID != "123456789012" || c.Partition != "aws-us-gov" || c.Regions != nil || c.Parallelism != DefaultParallelism || c.Sample != DefaultSample {
		t.Fatalf("%+v %v", c, err)
	}
	good[EnvRegions], good[EnvParallelism], good[EnvSample] = "eu-west-1, us-east-1,eu-west-1", "4", "50"
	if c, err = LoadConfig(env(good)); err != nil || !slices.Equal(c.Regions, []string{"eu-west-1", "us-east-1"}) || c.Parallelism != 4 || c.Sample != 50 {
		t.Fatalf("%+v %v", c, err)
	}
	for v, bad := range map[string]string{EnvTopicARN: "alerts", EnvRegion: "", EnvRegions: "eu-west-1,Mars", EnvParallelism: "65", EnvSample: "0"} {
		m := map[string]string{EnvTopicARN: good[EnvTopicARN], EnvRegion: "eu-west-1"}
		m[v] = bad
		_, err := LoadConfig(env(m))
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("%s=%q: error %v, want one naming %s", v, bad, err, v)
		}
	}
}
