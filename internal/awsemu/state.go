package awsemu

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Role is an IAM role as seeded and inspected from Go. Documents are plain
// JSON; the emulator URL-encodes them on the wire as IAM does.
type Role struct {
	Name, Path, ARN     string            // Path defaults to "/"; ARN filled by PutRole if empty
	TrustPolicy         string            // assume-role policy document, plain JSON
	AttachedPolicies    []string          // managed policy ARNs, in attachment order
	InlinePolicies      map[string]string // policy name -> plain JSON
	PermissionsBoundary string            // policy ARN or ""
	Tags                map[string]string // GetRole answers them (CloudFormation's aws:cloudformation:* among them)
}

// Setting is one SSM service setting value in one account and Region.
type Setting struct {
	Value, Status, LastModifiedUser string
	LastModifiedDate                time.Time
}

// Setting statuses as SSM reports them.
const (
	StatusDefault       = "Default"
	StatusCustomized    = "Customized"
	StatusPendingUpdate = "PendingUpdate"
)

// Message is one SNS Publish the emulator accepted.
type Message struct {
	TopicARN, Subject, Body string
	Attributes              map[string]string // name -> StringValue (Binary values base64)
	Region, Account         string
	MessageID               string
	// Protocols holds the per-protocol messages of a MessageStructure=json
	// publish ("default" included; Body is then the default); nil otherwise.
	// For(protocol) is what a subscriber of that protocol receives.
	Protocols map[string]string
}

// DefaultRegions are the 17 Regions enabled by default in a commercial account
// (every other commercial Region is opt-in).
var DefaultRegions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
	"ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1",
	"eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// optInRegions are commercial Regions that are disabled until opted in.
var optInRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-west-1",
	"eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
	"me-central-1", "me-south-1", "mx-central-1",
}

type roleState struct {
	Role
	id      string
	created time.Time
	desc    string
	maxSess int
}

type settingKey struct{ region, id string }

type settingState struct {
	Setting
	pending bool
	// serviceManaged is set when RegisterDefaultHostManagementConfiguration
	// created the role (SERVICE_MANAGED), so Deregister deletes it.
	serviceManaged string
}

type topic struct {
	arn, region string
	subs        []string
}

type accountState struct {
	id       string
	roles    map[string]*roleState // by lower-cased name: IAM names are case-insensitive
	settings map[settingKey]*settingState
	enabled  []string          // nil: DefaultRegions
	topics   map[string]*topic // by ARN
	lag      int               // SetRoleVisibilityLag
	// invisible counts, per lower-cased role name, how many more SSM calls
	// naming the role fail as if it did not exist yet.
	invisible map[string]int
}

// acct returns the state of an account, creating it. Callers hold s.mu.
func (s *Server) acct(id string) *accountState {
	a, ok := s.accounts[id]
	if !ok {
		a = &accountState{
			id:        id,
			roles:     map[string]*roleState{},
			settings:  map[settingKey]*settingState{},
			topics:    map[string]*topic{},
			invisible: map[string]int{},
		}
		s.accounts[id] = a
	}
	return a
}

// PutRole creates or replaces a role (seeding; no IAM call is logged). Path
// defaults to "/", ARN is filled as arn:aws:iam::<account>:role<path><name>.
// Customer managed policy ARNs it references are created so they can be
// attached again later.
func (s *Server) PutRole(account string, r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Path == "" {
		r.Path = "/"
	}
	if r.ARN == "" {
		r.ARN = fmt.Sprintf("arn:aws:iam::%s:role%s%s", account, r.Path, r.Name)
	}
	r.AttachedPolicies = slices.Clone(r.AttachedPolicies)
	r.InlinePolicies = maps.Clone(r.InlinePolicies)
	r.Tags = maps.Clone(r.Tags)
	if r.InlinePolicies == nil {
		r.InlinePolicies = map[string]string{}
	}
	for _, p := range append(slices.Clone(r.AttachedPolicies), r.PermissionsBoundary) {
		if p != "" && !strings.Contains(p, ":iam::aws:policy/") {
			s.policies[p] = true
		}
	}
	a := s.acct(account)
	old, ok := a.roles[strings.ToLower(r.Name)]
	rs := &roleState{Role: r, id: newRoleID(), created: time.Now().UTC(), maxSess: 3600}
	if ok {
		rs.id, rs.created, rs.desc, rs.maxSess = old.id, old.created, old.desc, old.maxSess
	}
	a.roles[strings.ToLower(r.Name)] = rs
}

// Role returns a copy of a role's state.
func (s *Server) Role(account, name string) (Role, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.acct(account).roles[strings.ToLower(name)]
	if !ok {
		return Role{}, false
	}
	return copyRole(rs.Role), true
}

// DeleteRoleState removes a role regardless of what is attached (seeding).
func (s *Server) DeleteRoleState(account, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.acct(account).roles, strings.ToLower(name))
}

func copyRole(r Role) Role {
	r.AttachedPolicies = slices.Clone(r.AttachedPolicies)
	r.InlinePolicies = maps.Clone(r.InlinePolicies)
	r.Tags = maps.Clone(r.Tags)
	if r.InlinePolicies == nil {
		r.InlinePolicies = map[string]string{}
	}
	return r
}

// CreatePolicy creates a customer managed policy at path "/" and returns its
// ARN, so tests can attach it or use it as a permissions boundary.
func (s *Server) CreatePolicy(account, name string) string {
	arn := fmt.Sprintf("arn:aws:iam::%s:policy/%s", account, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies[arn] = true
	return arn
}

// SetSetting sets the DHMC setting as if someone had called
// UpdateServiceSetting (Status Customized). LastModifiedUser is "System", as
// real SSM answers whoever made the change (dhmc-facts §9), unless
// StampCallers is on.
func (s *Server) SetSetting(account, region, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.setting(account, region, dhmcSettingID)
	st.Value = value
	st.Status = StatusCustomized
	st.LastModifiedUser = "System"
	if s.stampCallers {
		st.LastModifiedUser = fmt.Sprintf("arn:%s:iam::%s:user/seed", partitionOf(region), account)
	}
	st.LastModifiedDate = time.Now().UTC()
}

// StampCallers makes SSM record the caller's ARN as a setting's
// LastModifiedUser. Off (the default), it answers "System" as real SSM does:
// the DHMC user guide shows "System" right after a customer's change.
func (s *Server) StampCallers(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stampCallers = on
}

// DanglingSettingWrites lists the DHMC setting writes (UpdateServiceSetting,
// RegisterDefaultHostManagementConfiguration) that named a role which did
// not exist at that path at that moment, as "account region value": each is
// a Region whose DHMC the writer broke.
func (s *Server) DanglingSettingWrites() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dangling)
}

// Setting returns the DHMC setting of an account and Region; a never-set
// setting is {"$None", "Default", "System", <emulator start>}.
func (s *Server) Setting(account, region string) Setting {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.setting(account, region, dhmcSettingID)
	out := st.Setting
	if st.pending {
		out.Status = StatusPendingUpdate
	}
	return out
}

// SetPendingUpdate marks the DHMC setting as being updated: GetServiceSetting
// reports Status PendingUpdate and every change is refused with TooManyUpdates
// until it is cleared.
func (s *Server) SetPendingUpdate(account, region string, pending bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setting(account, region, dhmcSettingID).pending = pending
}

// setting returns the state of a setting, creating it with its default value.
// Callers hold s.mu.
func (s *Server) setting(account, region, id string) *settingState {
	a := s.acct(account)
	k := settingKey{region: region, id: id}
	st, ok := a.settings[k]
	if !ok {
		st = &settingState{Setting: Setting{
			Value: knownSettings[id], Status: StatusDefault,
			LastModifiedUser: "System", LastModifiedDate: s.created,
		}}
		a.settings[k] = st
	}
	return st
}

// SetEnabledRegions sets the Regions enabled in an account (default:
// DefaultRegions). It drives account:ListRegions; SSM and SNS refuse calls
// in a known opt-in Region that is not enabled, as AWS does.
func (s *Server) SetEnabledRegions(account string, regions []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acct(account).enabled = slices.Clone(regions)
}

func (a *accountState) enabledRegions() []string {
	if a.enabled == nil {
		return DefaultRegions
	}
	return a.enabled
}

// CreateTopic creates an SNS topic (idempotent) and returns its ARN.
func (s *Server) CreateTopic(account, region, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createTopic(account, region, name)
}

func (s *Server) createTopic(account, region, name string) string {
	arn := fmt.Sprintf("arn:%s:sns:%s:%s:%s", partitionOf(region), region, account, name)
	a := s.acct(account)
	if _, ok := a.topics[arn]; !ok {
		a.topics[arn] = &topic{arn: arn, region: region}
	}
	return arn
}

// Messages returns every message published so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		m.Attributes = maps.Clone(m.Attributes)
		m.Protocols = maps.Clone(m.Protocols)
		out[i] = m
	}
	return out
}

// SetRoleVisibilityLag simulates IAM eventual consistency in an account:
// after each CreateRole or UpdateAssumeRolePolicy, the next n SSM
// UpdateServiceSetting / RegisterDefaultHostManagementConfiguration calls
// naming that role fail with RoleNotVisibleCode. n = 0 turns it off.
func (s *Server) SetRoleVisibilityLag(account string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(account)
	a.lag = n
	if n == 0 {
		clear(a.invisible)
	}
}

// RoleNotVisibleCode is the SSM error code of a call that names a role IAM
// has not yet propagated (see SetRoleVisibilityLag). AWS does not document
// what SSM answers here. SSM's catch-all for a request it rejects after
// looking at other resources is ValidationException (400, a client error the
// SDK does not retry), which is also what a caller must not mistake for
// throttling: the right reaction is a bounded retry with backoff in the
// caller, which this code lets a test exercise.
const RoleNotVisibleCode = "ValidationException"
