package awsemu

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Instance is an EC2 instance as seeded and inspected from Go: the fields a
// fleet readiness report reads from DescribeInstances.
type Instance struct {
	ID    string // i- + 17 hex digits; PutInstance makes one when empty
	State string // pending | running | shutting-down | terminated | stopping | stopped; default running
	// InstanceProfileARN is the attached instance profile ("" for none). Its
	// ID is the profile's when PutInstanceProfile created it.
	InstanceProfileARN string
	HTTPTokens         string // "required" (IMDSv2 only) or "optional" (IMDSv1 allowed); default required
	HTTPEndpoint       string // "enabled" or "disabled"; default enabled
	Platform           string // "" (Linux/UNIX) or "windows"
	InstanceType       string // default t3.micro
	ImageID            string // default ami-0123456789abcdef0
	LaunchTime         time.Time
	Name               string // the Name tag ("" for none)
	ReservationID      string // r-...; instances seeded together may share one
}

// ManagedNode is what SSM knows about one managed node: one entry of
// DescribeInstanceInformation.
type ManagedNode struct {
	InstanceID   string
	PingStatus   string // Online | ConnectionLost | Inactive; default Online
	AgentVersion string // e.g. 3.3.1611.0
	PlatformType string // Linux | Windows | MacOS; default Linux
	PlatformName string // e.g. Amazon Linux
	// ResourceType is EC2Instance (default) or ManagedInstance (hybrid nodes,
	// whose IDs start with mi-).
	ResourceType string
	LastPing     time.Time // default: when it was seeded
}

// InstanceProfile is an IAM instance profile: a container for at most one role.
type InstanceProfile struct {
	Name, Path string   // Path defaults to "/"
	Roles      []string // role names; IAM allows one
	ARN, ID    string   // filled by PutInstanceProfile
}

// Instance state codes, as EC2 reports them next to the names.
var instanceStateCodes = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

// LatestAgentVersion is the SSM Agent version the emulator calls the latest
// (IsLatestVersion). Real SSM compares with the newest release; any fixed
// value serves a test.
const LatestAgentVersion = "3.3.2299.0"

type regionKey struct{ account, region string }

// instanceSet keeps one account's instances in one Region in the order they
// were seeded, which is the order DescribeInstances pages through them.
type instanceSet struct {
	order []*Instance
	byID  map[string]*Instance
}

type nodeSet struct {
	order []*ManagedNode
	byID  map[string]*ManagedNode
}

type profileState struct {
	InstanceProfile
	created time.Time
}

// policyVersion is one version of a customer managed policy.
type policyVersion struct {
	id      string // v1, v2, ...
	doc     string // plain JSON
	created time.Time
}

// managedPolicy is a customer managed policy with its versions.
type managedPolicy struct {
	arn, name, path, id, desc string
	created, updated          time.Time
	versions                  []*policyVersion // oldest first
	defaultID                 string
	nextVersion               int
}

// fleetState is the part of the emulator's state added for fleet readiness
// reports. Its maps are made on first use; callers hold s.mu.
type fleetState struct {
	instances map[regionKey]*instanceSet
	nodes     map[regionKey]*nodeSet
	// profiles by account, then lower-cased name (IAM names are case-insensitive).
	profiles map[string]map[string]*profileState
	// customer managed policies by ARN. s.policies still says which customer
	// ARNs exist (attachable); this holds their names and versions.
	policyDocs map[string]*managedPolicy
}

func (f *fleetState) instanceSet(account, region string) *instanceSet {
	if f.instances == nil {
		f.instances = map[regionKey]*instanceSet{}
	}
	k := regionKey{account, region}
	set, ok := f.instances[k]
	if !ok {
		set = &instanceSet{byID: map[string]*Instance{}}
		f.instances[k] = set
	}
	return set
}

func (f *fleetState) nodeSet(account, region string) *nodeSet {
	if f.nodes == nil {
		f.nodes = map[regionKey]*nodeSet{}
	}
	k := regionKey{account, region}
	set, ok := f.nodes[k]
	if !ok {
		set = &nodeSet{byID: map[string]*ManagedNode{}}
		f.nodes[k] = set
	}
	return set
}

func (f *fleetState) profileMap(account string) map[string]*profileState {
	if f.profiles == nil {
		f.profiles = map[string]map[string]*profileState{}
	}
	m, ok := f.profiles[account]
	if !ok {
		m = map[string]*profileState{}
		f.profiles[account] = m
	}
	return m
}

// PutInstance creates or replaces an EC2 instance (seeding; no call is
// logged) and returns its ID. Empty fields take the defaults listed on
// Instance; an instance profile ARN seeded with PutInstanceProfile carries
// that profile's ID on the wire.
func (s *Server) PutInstance(account, region string, in Instance) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putInstance(account, region, in)
}

// PutInstances seeds many instances at once, in order, under one lock.
func (s *Server) PutInstances(account, region string, ins []Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range ins {
		s.putInstance(account, region, in)
	}
}

func (s *Server) putInstance(account, region string, in Instance) string {
	if in.ID == "" {
		in.ID = "i-" + randomHex(17)
	}
	if in.State == "" {
		in.State = "running"
	}
	if in.HTTPTokens == "" {
		in.HTTPTokens = "required"
	}
	if in.HTTPEndpoint == "" {
		in.HTTPEndpoint = "enabled"
	}
	if in.InstanceType == "" {
		in.InstanceType = "t3.micro"
	}
	if in.ImageID == "" {
		in.ImageID = "ami-0123456789abcdef0"
	}
	if in.LaunchTime.IsZero() {
		in.LaunchTime = s.created
	}
	if in.ReservationID == "" {
		in.ReservationID = "r-" + randomHex(17)
	}
	set := s.fleet.instanceSet(account, region)
	if old, ok := set.byID[in.ID]; ok {
		*old = in
		return in.ID
	}
	p := &in
	set.order = append(set.order, p)
	set.byID[in.ID] = p
	return in.ID
}

// SetInstanceState changes an instance's state (running, stopped, ...).
func (s *Server) SetInstanceState(account, region, id, state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.fleet.instanceSet(account, region).byID[id]
	if ok {
		in.State = state
	}
	return ok
}

// Instances returns copies of the instances of an account in a Region, in
// seeding order.
func (s *Server) Instances(account, region string) []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.fleet.instanceSet(account, region)
	out := make([]Instance, len(set.order))
	for i, in := range set.order {
		out[i] = *in
	}
	return out
}

// PutManagedNode registers a managed node with SSM in a Region (seeding).
// Empty fields take the defaults listed on ManagedNode.
func (s *Server) PutManagedNode(account, region string, n ManagedNode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putManagedNode(account, region, n)
}

// PutManagedNodes seeds many nodes at once, in order.
func (s *Server) PutManagedNodes(account, region string, ns []ManagedNode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range ns {
		s.putManagedNode(account, region, n)
	}
}

func (s *Server) putManagedNode(account, region string, n ManagedNode) {
	if n.PingStatus == "" {
		n.PingStatus = "Online"
	}
	if n.PlatformType == "" {
		n.PlatformType = "Linux"
	}
	if n.ResourceType == "" {
		n.ResourceType = "EC2Instance"
		if strings.HasPrefix(n.InstanceID, "mi-") {
			n.ResourceType = "ManagedInstance"
		}
	}
	if n.LastPing.IsZero() {
		n.LastPing = time.Now().UTC()
	}
	set := s.fleet.nodeSet(account, region)
	if old, ok := set.byID[n.InstanceID]; ok {
		*old = n
		return
	}
	p := &n
	set.order = append(set.order, p)
	set.byID[n.InstanceID] = p
}

// PutInstanceProfile creates or replaces an instance profile (seeding) and
// returns its ARN. The roles it names need not exist: GetInstanceProfile
// lists only those that do, as IAM lists a profile's current roles.
func (s *Server) PutInstanceProfile(account string, p InstanceProfile) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Path == "" {
		p.Path = "/"
	}
	p.Roles = slices.Clone(p.Roles)
	m := s.fleet.profileMap(account)
	key := strings.ToLower(p.Name)
	ps := &profileState{InstanceProfile: p, created: time.Now().UTC()}
	if old, ok := m[key]; ok {
		ps.ID, ps.ARN, ps.created = old.ID, old.ARN, old.created
	}
	if ps.ID == "" {
		ps.ID = newIAMID("AIPA")
	}
	ps.ARN = fmt.Sprintf("arn:aws:iam::%s:instance-profile%s%s", account, p.Path, p.Name)
	m[key] = ps
	return ps.ARN
}

// InstanceProfileOf returns a copy of an instance profile.
func (s *Server) InstanceProfileOf(account, name string) (InstanceProfile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, ok := s.fleet.profileMap(account)[strings.ToLower(name)]
	if !ok {
		return InstanceProfile{}, false
	}
	out := ps.InstanceProfile
	out.Roles = slices.Clone(out.Roles)
	return out, true
}

// profileIDByARN finds the ID of a seeded profile; callers hold s.mu.
func (s *Server) profileIDByARN(account, arn string) string {
	for _, ps := range s.fleet.profileMap(account) {
		if ps.ARN == arn {
			return ps.ID
		}
	}
	return ""
}

// newIAMID returns a unique ID shaped like IAM's: a four-letter prefix that
// names the kind (AIPA instance profile, ANPA managed policy) and 17
// characters.
func newIAMID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [17]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return prefix + string(b[:])
}

func randomHex(n int) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = hexd[b[i]%16]
	}
	return string(b)
}
