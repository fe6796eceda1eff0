package awsemu

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Customer managed policies with versions, and reads of AWS managed ones,
// registered into iamOps at init so iam.go's role handlers stay as they are.
func init() {
	for name, h := range map[string]handler{
		"CreatePolicy":            {write: true, fn: (*Server).iamCreatePolicy},
		"GetPolicy":               {fn: (*Server).iamGetPolicy},
		"DeletePolicy":            {write: true, fn: (*Server).iamDeletePolicy},
		"CreatePolicyVersion":     {write: true, fn: (*Server).iamCreatePolicyVersion},
		"GetPolicyVersion":        {fn: (*Server).iamGetPolicyVersion},
		"ListPolicyVersions":      {fn: (*Server).iamListPolicyVersions},
		"SetDefaultPolicyVersion": {write: true, fn: (*Server).iamSetDefaultPolicyVersion},
		"DeletePolicyVersion":     {write: true, fn: (*Server).iamDeletePolicyVersion},
	} {
		iamOps[name] = h
	}
}

const (
	// managedPolicyQuota is IAM's default PolicySize for managed policies
	// (non-whitespace characters).
	managedPolicyQuota = 6144
	// maxPolicyVersions is how many versions a managed policy keeps.
	maxPolicyVersions = 5
	// seededPolicyDoc is the document of a customer managed policy seeded by
	// name only (CreatePolicy, or referenced by PutRole): it grants nothing
	// but a call that needs no permission, so it never widens what a role may
	// do in a test that did not ask for it.
	seededPolicyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`
)

var versionIDRE = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)

// CreatePolicyWithDocument creates (or replaces) a customer managed policy
// at path (default "/") whose v1, the default version, is doc, and returns
// its ARN (seeding; no call is logged).
func (s *Server) CreatePolicyWithDocument(account, path, name, doc string) string {
	if path == "" {
		path = "/"
	}
	arn := fmt.Sprintf("arn:aws:iam::%s:policy%s%s", account, path, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies[arn] = true
	s.newManagedPolicy(arn, name, path, doc, "")
	return arn
}

// PolicyVersions returns a customer managed policy's version IDs, oldest
// first, and its default version ID.
func (s *Server) PolicyVersions(arn string) (ids []string, defaultID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mp := s.customerPolicy(arn)
	if mp == nil {
		return nil, "", false
	}
	for _, v := range mp.versions {
		ids = append(ids, v.id)
	}
	return ids, mp.defaultID, true
}

// newManagedPolicy records a policy with doc as v1; callers hold s.mu.
func (s *Server) newManagedPolicy(arn, name, path, doc, desc string) *managedPolicy {
	if s.fleet.policyDocs == nil {
		s.fleet.policyDocs = map[string]*managedPolicy{}
	}
	now := time.Now().UTC()
	mp := &managedPolicy{
		arn: arn, name: name, path: path, id: newIAMID("ANPA"), desc: desc,
		created: now, updated: now,
		versions:  []*policyVersion{{id: "v1", doc: doc, created: now}},
		defaultID: "v1", nextVersion: 2,
	}
	s.fleet.policyDocs[arn] = mp
	return mp
}

// customerPolicy returns a customer managed policy, giving one seeded by
// name only (s.policies) its placeholder document; nil when it does not
// exist. Callers hold s.mu.
func (s *Server) customerPolicy(arn string) *managedPolicy {
	if !s.policies[arn] {
		return nil
	}
	if mp, ok := s.fleet.policyDocs[arn]; ok {
		return mp
	}
	res := arn[strings.Index(arn, ":policy")+len(":policy"):]
	i := strings.LastIndex(res, "/")
	return s.newManagedPolicy(arn, res[i+1:], res[:i+1], seededPolicyDoc, "")
}

func requirePolicyARN(req *request) (string, *apiError) {
	arn := param(req, "PolicyArn")
	if arn == "" {
		return "", apiErr(400, "ValidationError", "1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be null")
	}
	if !policyARNRE.MatchString(arn) {
		return "", apiErrf(400, "InvalidInput", "ARN %s is not valid.", arn)
	}
	return arn, nil
}

func noSuchPolicy(arn string) *apiError {
	return apiErrf(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
}

func isAWSManaged(arn string) bool { return strings.Contains(arn, ":iam::aws:policy/") }

// usage counts the roles of the policy's account that attach it or use it as
// a boundary; callers hold s.mu.
func (s *Server) usage(arn string) (attached, boundaries int) {
	for _, a := range s.accounts {
		for _, rs := range a.roles {
			if slices.Contains(rs.AttachedPolicies, arn) {
				attached++
			}
			if rs.PermissionsBoundary == arn {
				boundaries++
			}
		}
	}
	return attached, boundaries
}

func (s *Server) policyXML(x *xb, arn, name, path, id, defaultID, desc string, created, updated time.Time) {
	attached, boundaries := s.usage(arn)
	x.open("Policy")
	x.leaf("PolicyName", name)
	x.leaf("PolicyId", id)
	x.leaf("Arn", arn)
	x.leaf("Path", path)
	x.leaf("DefaultVersionId", defaultID)
	x.leaf("AttachmentCount", strconv.Itoa(attached))
	x.leaf("PermissionsBoundaryUsageCount", strconv.Itoa(boundaries))
	x.leaf("IsAttachable", "true")
	if desc != "" {
		x.leaf("Description", desc)
	}
	x.leaf("CreateDate", iso8601(created))
	x.leaf("UpdateDate", iso8601(updated))
	x.close("Policy")
}

func checkManagedPolicyDocument(doc string) *apiError {
	if e := checkPolicyDocument(doc, false); e != nil {
		return e
	}
	if nonSpaceLen(doc) > managedPolicyQuota {
		return apiErrf(409, "LimitExceeded", "Cannot exceed quota for PolicySize: %d", managedPolicyQuota)
	}
	return nil
}

func (s *Server) iamCreatePolicy(req *request) (any, *apiError) {
	name, e := requirePolicyName(req)
	if e != nil {
		return nil, e
	}
	path := param(req, "Path")
	if path == "" {
		path = "/"
	}
	if len(path) > 512 || !iamPathRE.MatchString(path) {
		return nil, validationError("path", path, `Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	}
	doc := param(req, "PolicyDocument")
	if e := checkManagedPolicyDocument(doc); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A policy name is unique in the account, whatever its path.
	prefix := fmt.Sprintf("arn:%s:iam::%s:policy", partitionOf(req.region), req.account)
	for arn := range s.policies {
		if strings.HasPrefix(arn, prefix+"/") && strings.EqualFold(arn[strings.LastIndex(arn, "/")+1:], name) {
			return nil, apiErrf(409, "EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", name)
		}
	}
	arn := prefix + path + name
	s.policies[arn] = true
	mp := s.newManagedPolicy(arn, name, path, doc, param(req, "Description"))
	var x xb
	s.policyXML(&x, mp.arn, mp.name, mp.path, mp.id, mp.defaultID, mp.desc, mp.created, mp.updated)
	return x.result(), nil
}

func (s *Server) iamGetPolicy(req *request) (any, *apiError) {
	arn, e := requirePolicyARN(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var x xb
	if isAWSManaged(arn) {
		if !s.policyExists(arn) {
			return nil, noSuchPolicy(arn)
		}
		res := arn[strings.Index(arn, ":policy")+len(":policy"):]
		i := strings.LastIndex(res, "/")
		version, created := "v1", day("2015-02-06")
		if d, ok := awsPolicyDocOf(arn); ok {
			version, created = d.version, d.created
		}
		// AWS managed policies have stable IDs; this one is derived from
		// the name so that it is the same on every call.
		id := "ANPA" + strings.ToUpper(fmt.Sprintf("%017x", fnv64(res)))[:17]
		s.policyXML(&x, arn, res[i+1:], res[:i+1], id, version, "", day("2015-02-06"), created)
		return x.result(), nil
	}
	mp := s.customerPolicy(arn)
	if mp == nil {
		return nil, noSuchPolicy(arn)
	}
	s.policyXML(&x, mp.arn, mp.name, mp.path, mp.id, mp.defaultID, mp.desc, mp.created, mp.updated)
	return x.result(), nil
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// customerPolicyForWrite resolves a policy a caller wants to change. AWS
// managed policies cannot be changed: IAM answers AccessDenied (the wording
// is IAM's usual denial; that IAM words this case so is an assumption).
func (s *Server) customerPolicyForWrite(req *request, arn, action string) (*managedPolicy, *apiError) {
	if isAWSManaged(arn) {
		if !s.policyExists(arn) {
			return nil, noSuchPolicy(arn)
		}
		return nil, apiErrf(403, "AccessDenied", "User: %s is not authorized to perform: iam:%s on resource: policy %s", req.caller, action, arn)
	}
	mp := s.customerPolicy(arn)
	if mp == nil {
		return nil, noSuchPolicy(arn)
	}
	return mp, nil
}

func (s *Server) iamDeletePolicy(req *request) (any, *apiError) {
	arn, e := requirePolicyARN(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mp, e := s.customerPolicyForWrite(req, arn, "DeletePolicy")
	if e != nil {
		return nil, e
	}
	if a, b := s.usage(arn); a+b > 0 {
		return nil, apiErr(409, "DeleteConflict", "Cannot delete a policy attached to entities.")
	}
	if len(mp.versions) > 1 {
		return nil, apiErr(409, "DeleteConflict", "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	delete(s.policies, arn)
	delete(s.fleet.policyDocs, arn)
	return xmlResult{noResult: true}, nil
}
