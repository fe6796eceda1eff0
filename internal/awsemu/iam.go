package awsemu

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

var iamOps = map[string]handler{
	"CreateRole":                    {write: true, fn: (*Server).iamCreateRole},
	"GetRole":                       {fn: (*Server).iamGetRole},
	"DeleteRole":                    {write: true, fn: (*Server).iamDeleteRole},
	"UpdateAssumeRolePolicy":        {write: true, fn: (*Server).iamUpdateAssumeRolePolicy},
	"AttachRolePolicy":              {write: true, fn: (*Server).iamAttachRolePolicy},
	"DetachRolePolicy":              {write: true, fn: (*Server).iamDetachRolePolicy},
	"ListAttachedRolePolicies":      {fn: (*Server).iamListAttachedRolePolicies},
	"PutRolePolicy":                 {write: true, fn: (*Server).iamPutRolePolicy},
	"GetRolePolicy":                 {fn: (*Server).iamGetRolePolicy},
	"DeleteRolePolicy":              {write: true, fn: (*Server).iamDeleteRolePolicy},
	"ListRolePolicies":              {fn: (*Server).iamListRolePolicies},
	"PutRolePermissionsBoundary":    {write: true, fn: (*Server).iamPutRolePermissionsBoundary},
	"DeleteRolePermissionsBoundary": {write: true, fn: (*Server).iamDeleteRolePermissionsBoundary},
}

// awsManagedPolicies, the AWS managed policy catalogue, is in iam_catalogue.go.

var (
	accountRE    = regexp.MustCompile(`^[0-9]{12}$`)
	roleNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	iamPathRE    = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
	policyARNRE  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::(aws|[0-9]{12}):policy(/[\x21-\x7E]*)?/[\w+=,.@-]+$`)
)

const (
	// Default IAM quotas.
	trustPolicyQuota      = 2048  // ACLSizePerRole, non-whitespace characters
	inlinePolicyQuota     = 10240 // aggregate inline policy size per role
	attachedPoliciesQuota = 10    // PoliciesPerRole
)

func param(req *request, name string) string { return first(req.form[name]) }

func validationError(field, value, constraint string) *apiError {
	return apiErrf(400, "ValidationError", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

func requireRoleName(req *request) (string, *apiError) {
	name := param(req, "RoleName")
	if name == "" {
		return "", apiErr(400, "ValidationError", "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null")
	}
	if !roleNameRE.MatchString(name) {
		return "", validationError("roleName", name, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	return name, nil
}

// findRole returns the role; callers hold s.mu.
func (s *Server) findRole(req *request, name string) (*roleState, *apiError) {
	rs, ok := s.acct(req.account).roles[strings.ToLower(name)]
	if !ok {
		return nil, apiErrf(404, "NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	return rs, nil
}

// withRole is the shape shared by the handlers that act on one existing role.
// It validates RoleName, then, holding s.mu, runs check (if not nil), looks
// the role up and calls fn with it. check carries the handler's other
// parameter validation: IAM reports those errors before NoSuchEntity for the
// role, and some of them (checkPolicyARN) read server state, so check must
// not take s.mu itself. Roles are keyed by strings.ToLower(rs.Name).
func (s *Server) withRole(req *request, check func() *apiError, fn func(rs *roleState) (any, *apiError)) (any, *apiError) {
	name, e := requireRoleName(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if check != nil {
		if e := check(); e != nil {
			return nil, e
		}
	}
	rs, e := s.findRole(req, name)
	if e != nil {
		return nil, e
	}
	return fn(rs)
}

// newRoleID returns a unique ID shaped like IAM's (AROA + 17 characters).
func newRoleID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [17]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return "AROA" + string(b[:])
}

func roleXML(x *xb, rs *roleState, withLastUsed bool) {
	x.open("Role")
	x.leaf("Path", rs.Path)
	x.leaf("RoleName", rs.Name)
	x.leaf("RoleId", rs.id)
	x.leaf("Arn", rs.ARN)
	x.leaf("CreateDate", iso8601(rs.created))
	x.leaf("AssumeRolePolicyDocument", policyEscape(rs.TrustPolicy))
	if rs.desc != "" {
		x.leaf("Description", rs.desc)
	}
	x.leaf("MaxSessionDuration", strconv.Itoa(rs.maxSess))
	if rs.PermissionsBoundary != "" {
		x.open("PermissionsBoundary")
		x.leaf("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
		x.leaf("PermissionsBoundaryArn", rs.PermissionsBoundary)
		x.close("PermissionsBoundary")
	}
	if len(rs.Tags) > 0 {
		keys := make([]string, 0, len(rs.Tags))
		for k := range rs.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		x.open("Tags")
		for _, k := range keys {
			x.open("member")
			x.leaf("Key", k)
			x.leaf("Value", rs.Tags[k])
			x.close("member")
		}
		x.close("Tags")
	}
	if withLastUsed {
		x.open("RoleLastUsed")
		x.close("RoleLastUsed")
	}
	x.close("Role")
}

func (s *Server) iamCreateRole(req *request) (any, *apiError) {
	name, e := requireRoleName(req)
	if e != nil {
		return nil, e
	}
	path := param(req, "Path")
	if path == "" {
		path = "/"
	}
	if len(path) > 512 || !iamPathRE.MatchString(path) {
		return nil, validationError("path", path, `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	doc := param(req, "AssumeRolePolicyDocument")
	if e := checkTrustPolicy(doc); e != nil {
		return nil, e
	}
	maxSess := 3600
	if v := param(req, "MaxSessionDuration"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3600 || n > 43200 {
			return nil, validationError("maxSessionDuration", v, "Member must have value between 3600 and 43200")
		}
		maxSess = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	boundary := param(req, "PermissionsBoundary")
	if boundary != "" {
		if e := s.checkPolicyARN(boundary, "permissionsBoundary"); e != nil {
			return nil, e
		}
	}
	a := s.acct(req.account)
	key := strings.ToLower(name)
	if _, ok := a.roles[key]; ok {
		return nil, apiErrf(409, "EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	rs := &roleState{
		Role: Role{
			Name: name, Path: path, TrustPolicy: doc, PermissionsBoundary: boundary,
			ARN:            fmt.Sprintf("arn:%s:iam::%s:role%s%s", partitionOf(req.region), req.account, path, name),
			InlinePolicies: map[string]string{},
		},
		id: newRoleID(), created: time.Now().UTC(), desc: param(req, "Description"), maxSess: maxSess,
	}
	a.roles[key] = rs
	if a.lag > 0 {
		a.invisible[key] = a.lag
	}
	var x xb
	roleXML(&x, rs, false)
	return x.result(), nil
}

func (s *Server) iamGetRole(req *request) (any, *apiError) {
	return s.withRole(req, nil, func(rs *roleState) (any, *apiError) {
		var x xb
		roleXML(&x, rs, true)
		return x.result(), nil
	})
}

func (s *Server) iamDeleteRole(req *request) (any, *apiError) {
	return s.withRole(req, nil, func(rs *roleState) (any, *apiError) {
		if len(rs.AttachedPolicies) > 0 {
			return nil, apiErr(409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
		}
		if len(rs.InlinePolicies) > 0 {
			return nil, apiErr(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
		}
		delete(s.acct(req.account).roles, strings.ToLower(rs.Name))
		return xmlResult{noResult: true}, nil
	})
}

func (s *Server) iamUpdateAssumeRolePolicy(req *request) (any, *apiError) {
	doc := param(req, "PolicyDocument")
	check := func() *apiError { return checkTrustPolicy(doc) }
	return s.withRole(req, check, func(rs *roleState) (any, *apiError) {
		rs.TrustPolicy = doc
		if a := s.acct(req.account); a.lag > 0 {
			a.invisible[strings.ToLower(rs.Name)] = a.lag
		}
		return xmlResult{noResult: true}, nil
	})
}

func (s *Server) iamAttachRolePolicy(req *request) (any, *apiError) {
	arn := param(req, "PolicyArn")
	check := func() *apiError { return s.checkPolicyARN(arn, "policyArn") }
	return s.withRole(req, check, func(rs *roleState) (any, *apiError) {
		if slices.Contains(rs.AttachedPolicies, arn) {
			return xmlResult{noResult: true}, nil
		}
		if len(rs.AttachedPolicies) >= attachedPoliciesQuota {
			return nil, apiErrf(409, "LimitExceeded", "Cannot exceed quota for PoliciesPerRole: %d", attachedPoliciesQuota)
		}
		rs.AttachedPolicies = append(rs.AttachedPolicies, arn)
		return xmlResult{noResult: true}, nil
	})
}

func (s *Server) iamDetachRolePolicy(req *request) (any, *apiError) {
	arn := param(req, "PolicyArn")
	check := func() *apiError {
		if arn == "" {
			return apiErr(400, "ValidationError", "1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be null")
		}
		if !policyARNRE.MatchString(arn) {
			return apiErrf(400, "InvalidInput", "ARN %s is not valid.", arn)
		}
		return nil
	}
	return s.withRole(req, check, func(rs *roleState) (any, *apiError) {
		i := slices.Index(rs.AttachedPolicies, arn)
		if i < 0 {
			return nil, apiErrf(404, "NoSuchEntity", "Policy %s was not found.", arn)
		}
		rs.AttachedPolicies = slices.Delete(rs.AttachedPolicies, i, i+1)
		return xmlResult{noResult: true}, nil
	})
}

// page applies Marker/MaxItems to n items and returns [from, to) and the
// next marker ("" when the list is complete).
func page(req *request, n int) (from, to int, next string, e *apiError) {
	maxItems := 100
	if v := param(req, "MaxItems"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil || m < 1 || m > 1000 {
			return 0, 0, "", validationError("maxItems", v, "Member must have value between 1 and 1000")
		}
		maxItems = m
	}
	if mk := param(req, "Marker"); mk != "" {
		raw, err := base64.RawURLEncoding.DecodeString(mk)
		f, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "emu:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "emu:") || f < 0 {
			return 0, 0, "", apiErr(400, "InvalidInput", "Invalid Marker.")
		}
		from = min(f, n)
	}
	to = min(from+maxItems, n)
	if to < n {
		next = base64.RawURLEncoding.EncodeToString([]byte("emu:" + strconv.Itoa(to)))
	}
	return from, to, next, nil
}

func pageTail(x *xb, next string) {
	x.leaf("IsTruncated", strconv.FormatBool(next != ""))
	if next != "" {
		x.leaf("Marker", next)
	}
}

func (s *Server) iamListAttachedRolePolicies(req *request) (any, *apiError) {
	prefix := param(req, "PathPrefix")
	return s.withRole(req, nil, func(rs *roleState) (any, *apiError) {
		var arns []string
		for _, arn := range rs.AttachedPolicies {
			res := strings.TrimPrefix(arn[strings.LastIndex(arn, ":")+1:], "policy")
			if prefix == "" || strings.HasPrefix(res, prefix) {
				arns = append(arns, arn)
			}
		}
		from, to, next, e := page(req, len(arns))
		if e != nil {
			return nil, e
		}
		var x xb
		x.open("AttachedPolicies")
		for _, arn := range arns[from:to] {
			x.open("member")
			x.leaf("PolicyName", arn[strings.LastIndex(arn, "/")+1:])
			x.leaf("PolicyArn", arn)
			x.close("member")
		}
		x.close("AttachedPolicies")
		pageTail(&x, next)
		return x.result(), nil
	})
}

func (s *Server) iamPutRolePermissionsBoundary(req *request) (any, *apiError) {
	arn := param(req, "PermissionsBoundary")
	check := func() *apiError { return s.checkPolicyARN(arn, "permissionsBoundary") }
	return s.withRole(req, check, func(rs *roleState) (any, *apiError) {
		rs.PermissionsBoundary = arn
		return xmlResult{noResult: true}, nil
	})
}

func (s *Server) iamDeleteRolePermissionsBoundary(req *request) (any, *apiError) {
	return s.withRole(req, nil, func(rs *roleState) (any, *apiError) {
		rs.PermissionsBoundary = ""
		return xmlResult{noResult: true}, nil
	})
}
