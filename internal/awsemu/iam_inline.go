package awsemu

// Inline role policies: Put/Get/Delete/ListRolePolicies. IAM returns a
// document as written (whitespace and all), which is why the guard bounds
// what it keeps of one (see internal/dhmc).

import "sort"

func requirePolicyName(req *request) (string, *apiError) {
	name := param(req, "PolicyName")
	if name == "" {
		return "", apiErr(400, "ValidationError", "1 validation error detected: Value null at 'policyName' failed to satisfy constraint: Member must not be null")
	}
	if !policyNameRE.MatchString(name) {
		return "", validationError("policyName", name, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	return name, nil
}

func (s *Server) iamPutRolePolicy(req *request) (any, *apiError) {
	var pname string
	doc := param(req, "PolicyDocument")
	check := func() (e *apiError) {
		if pname, e = requirePolicyName(req); e != nil {
			return e
		}
		return checkPolicyDocument(doc, false)
	}
	return s.withRole(req, check, func(rs *roleState) (any, *apiError) {
		total := nonSpaceLen(doc)
		for n, d := range rs.InlinePolicies {
			if n != pname {
				total += nonSpaceLen(d)
			}
		}
		if total > inlinePolicyQuota {
			// The message names the role as the caller spelled it, not rs.Name.
			return nil, apiErrf(409, "LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s", inlinePolicyQuota, param(req, "RoleName"))
		}
		rs.InlinePolicies[pname] = doc
		return xmlResult{noResult: true}, nil
	})
}

func (s *Server) iamGetRolePolicy(req *request) (any, *apiError) {
	var pname string
	check := func() (e *apiError) { pname, e = requirePolicyName(req); return e }
	return s.withRole(req, check, func(rs *roleState) (any, *apiError) {
		doc, ok := rs.InlinePolicies[pname]
		if !ok {
			return nil, apiErrf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", pname)
		}
		var x xb
		x.leaf("RoleName", rs.Name)
		x.leaf("PolicyName", pname)
		x.leaf("PolicyDocument", policyEscape(doc))
		return x.result(), nil
	})
}

func (s *Server) iamDeleteRolePolicy(req *request) (any, *apiError) {
	var pname string
	check := func() (e *apiError) { pname, e = requirePolicyName(req); return e }
	return s.withRole(req, check, func(rs *roleState) (any, *apiError) {
		if _, ok := rs.InlinePolicies[pname]; !ok {
			return nil, apiErrf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", pname)
		}
		delete(rs.InlinePolicies, pname)
		return xmlResult{noResult: true}, nil
	})
}

func (s *Server) iamListRolePolicies(req *request) (any, *apiError) {
	return s.withRole(req, nil, func(rs *roleState) (any, *apiError) {
		names := make([]string, 0, len(rs.InlinePolicies))
		for n := range rs.InlinePolicies {
			names = append(names, n)
		}
		sort.Strings(names)
		from, to, next, e := page(req, len(names))
		if e != nil {
			return nil, e
		}
		var x xb
		x.open("PolicyNames")
		for _, n := range names[from:to] {
			x.leaf("member", n)
		}
		x.close("PolicyNames")
		pageTail(&x, next)
		return x.result(), nil
	})
}
