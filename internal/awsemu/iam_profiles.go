package awsemu

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// IAM instance profiles, registered into iamOps at init.
func init() {
	for name, h := range map[string]handler{
		"CreateInstanceProfile":         {write: true, fn: (*Server).iamCreateInstanceProfile},
		"GetInstanceProfile":            {fn: (*Server).iamGetInstanceProfile},
		"DeleteInstanceProfile":         {write: true, fn: (*Server).iamDeleteInstanceProfile},
		"AddRoleToInstanceProfile":      {write: true, fn: (*Server).iamAddRoleToInstanceProfile},
		"RemoveRoleFromInstanceProfile": {write: true, fn: (*Server).iamRemoveRoleFromInstanceProfile},
	} {
		iamOps[name] = h
	}
}

// rolesPerInstanceProfile is IAM's fixed quota (InstanceSessionsPerInstanceProfile).
const rolesPerInstanceProfile = 1

func requireProfileName(req *request) (string, *apiError) {
	name := param(req, "InstanceProfileName")
	if name == "" {
		return "", apiErr(400, "ValidationError", "1 validation error detected: Value null at 'instanceProfileName' failed to satisfy constraint: Member must not be null")
	}
	if !roleNameRE.MatchString(name) {
		return "", validationError("instanceProfileName", name, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	return name, nil
}

// findProfile looks a profile up; callers hold s.mu.
func (s *Server) findProfile(req *request, name string) (*profileState, *apiError) {
	ps, ok := s.fleet.profileMap(req.account)[strings.ToLower(name)]
	if !ok {
		return nil, apiErrf(404, "NoSuchEntity", "Instance Profile %s cannot be found.", name)
	}
	return ps, nil
}

// profileXML writes <InstanceProfile> with its current roles as GetRole
// shows them (trust policy URL-encoded); callers hold s.mu.
func (s *Server) profileXML(x *xb, account string, ps *profileState) {
	x.open("InstanceProfile")
	x.leaf("Path", ps.Path)
	x.leaf("InstanceProfileName", ps.Name)
	x.leaf("InstanceProfileId", ps.ID)
	x.leaf("Arn", ps.ARN)
	x.leaf("CreateDate", iso8601(ps.created))
	x.open("Roles")
	a := s.acct(account)
	for _, name := range ps.Roles {
		rs, ok := a.roles[strings.ToLower(name)]
		if !ok {
			continue
		}
		x.open("member")
		x.leaf("Path", rs.Path)
		x.leaf("RoleName", rs.Name)
		x.leaf("RoleId", rs.id)
		x.leaf("Arn", rs.ARN)
		x.leaf("CreateDate", iso8601(rs.created))
		x.leaf("AssumeRolePolicyDocument", policyEscape(rs.TrustPolicy))
		x.close("member")
	}
	x.close("Roles")
	x.close("InstanceProfile")
}

func (s *Server) iamCreateInstanceProfile(req *request) (any, *apiError) {
	name, e := requireProfileName(req)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.fleet.profileMap(req.account)
	if _, ok := m[strings.ToLower(name)]; ok {
		return nil, apiErrf(409, "EntityAlreadyExists", "Instance Profile %s already exists.", name)
	}
	ps := &profileState{
		InstanceProfile: InstanceProfile{
			Name: name, Path: path, ID: newIAMID("AIPA"),
			ARN: fmt.Sprintf("arn:%s:iam::%s:instance-profile%s%s", partitionOf(req.region), req.account, path, name),
		},
		created: time.Now().UTC(),
	}
	m[strings.ToLower(name)] = ps
	var x xb
	s.profileXML(&x, req.account, ps)
	return x.result(), nil
}

func (s *Server) iamGetInstanceProfile(req *request) (any, *apiError) {
	name, e := requireProfileName(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, e := s.findProfile(req, name)
	if e != nil {
		return nil, e
	}
	var x xb
	s.profileXML(&x, req.account, ps)
	return x.result(), nil
}

func (s *Server) iamDeleteInstanceProfile(req *request) (any, *apiError) {
	name, e := requireProfileName(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, e := s.findProfile(req, name)
	if e != nil {
		return nil, e
	}
	if len(ps.Roles) > 0 {
		return nil, apiErr(409, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(s.fleet.profileMap(req.account), strings.ToLower(name))
	return xmlResult{noResult: true}, nil
}

// withProfileRole is the shape of the calls that name an instance profile
// and a role: both validated, then fn holds s.mu with the profile found.
func (s *Server) withProfileRole(req *request, fn func(ps *profileState, role string) (any, *apiError)) (any, *apiError) {
	name, e := requireProfileName(req)
	if e != nil {
		return nil, e
	}
	role, e := requireRoleName(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, e := s.findProfile(req, name)
	if e != nil {
		return nil, e
	}
	return fn(ps, role)
}

func (s *Server) iamAddRoleToInstanceProfile(req *request) (any, *apiError) {
	return s.withProfileRole(req, func(ps *profileState, role string) (any, *apiError) {
		rs, e := s.findRole(req, role)
		if e != nil {
			return nil, e
		}
		if len(ps.Roles) >= rolesPerInstanceProfile {
			return nil, apiErrf(409, "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", rolesPerInstanceProfile)
		}
		ps.Roles = append(ps.Roles, rs.Name)
		return xmlResult{noResult: true}, nil
	})
}

func (s *Server) iamRemoveRoleFromInstanceProfile(req *request) (any, *apiError) {
	return s.withProfileRole(req, func(ps *profileState, role string) (any, *apiError) {
		i := slices.IndexFunc(ps.Roles, func(r string) bool { return strings.EqualFold(r, role) })
		if i < 0 {
			return nil, apiErrf(404, "NoSuchEntity", "The role with name %s cannot be found.", role)
		}
		ps.Roles = slices.Delete(ps.Roles, i, i+1)
		return xmlResult{noResult: true}, nil
	})
}
