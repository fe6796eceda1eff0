package awsemu

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

const dhmcSettingID = "/ssm/managed-instance/default-ec2-instance-management-role"

// knownSettings are the service settings the emulator serves, with their
// default values. Any other ID is ServiceSettingNotFound.
var knownSettings = map[string]string{
	dhmcSettingID: "$None",
	"/ssm/parameter-store/high-throughput-enabled": "false",
	"/ssm/parameter-store/default-parameter-tier":  "Standard",
	"/ssm/managed-instance/activation-tier":        "standard",
}

// ServiceManagedRolePath is where a SERVICE_MANAGED registration puts the
// role SSM creates: IAM's reserved path (the SDK's documentation of
// RegisterDefaultHostManagementConfigurationOutput.RoleArn). The path below
// /aws-reserved/ and the role's name are not documented; this emulator uses
// the service's name under it, like Identity Center's roles, and the
// console's role name, so that a guard must cope with a same-name role.
const ServiceManagedRolePath = "/aws-reserved/ssm.amazonaws.com/"

const (
	dhmcRoleName      = "AWSSystemsManagerDefaultEC2InstanceManagementRole"
	dhmcRolePath      = "/service-role/"
	dhmcManagedPolicy = "AmazonSSMManagedEC2InstanceDefaultPolicy"
	ssmTrustPolicy    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

var ssmOps = map[string]handler{
	"GetServiceSetting":                            {fn: (*Server).ssmGetServiceSetting},
	"UpdateServiceSetting":                         {write: true, fn: (*Server).ssmUpdateServiceSetting},
	"ResetServiceSetting":                          {write: true, fn: (*Server).ssmResetServiceSetting},
	"RegisterDefaultHostManagementConfiguration":   {write: true, fn: (*Server).ssmRegisterDHMC},
	"DeregisterDefaultHostManagementConfiguration": {write: true, fn: (*Server).ssmDeregisterDHMC},
}

type ssmInput struct {
	SettingID       *string `json:"SettingId"`
	SettingValue    *string `json:"SettingValue"`
	PermissionModel string  `json:"PermissionModel"`
	RoleArn         *string `json:"RoleArn"`
	Overwrite       bool    `json:"Overwrite"`
}

type ssmServiceSetting struct {
	SettingID        string  `json:"SettingId"`
	SettingValue     string  `json:"SettingValue"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
	LastModifiedUser string  `json:"LastModifiedUser"`
	ARN              string  `json:"ARN"`
	Status           string  `json:"Status"`
}

func (s *Server) ssmDecode(req *request) (ssmInput, *apiError) {
	var in ssmInput
	if len(req.body) == 0 {
		return in, nil
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return in, apiErr(400, "SerializationException", "Start of structure or map found where not expected")
	}
	return in, regionCheckJSON(s, req)
}

// regionCheckJSON refuses calls to a known opt-in Region the account has not
// enabled, as AWS does (the credentials are not valid there).
func regionCheckJSON(s *Server, req *request) *apiError {
	if s.regionDisabled(req.account, req.region) {
		return apiErr(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	return nil
}

func (s *Server) regionDisabled(account, region string) bool {
	if !slices.Contains(optInRegions, region) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !slices.Contains(s.acct(account).enabledRegions(), region)
}

// resolveSetting turns a SettingId (short ID or ARN) into the short ID.
func resolveSetting(req *request, raw *string) (string, *apiError) {
	if raw == nil || *raw == "" {
		return "", apiErr(400, "ValidationException", "1 validation error detected: Value null at 'settingId' failed to satisfy constraint: Member must not be null")
	}
	id := *raw
	if strings.HasPrefix(id, "arn:") {
		parts := strings.SplitN(id, ":", 6)
		if len(parts) != 6 || parts[2] != "ssm" || !strings.HasPrefix(parts[5], "servicesetting/") {
			return "", apiErrf(400, "ServiceSettingNotFound", "Setting %s is not found.", id)
		}
		if parts[4] != req.account {
			return "", apiErrf(400, "AccessDeniedException", "User: %s is not authorized to perform: ssm:%s on resource: %s", req.caller, req.op, id)
		}
		if parts[1] != partitionOf(req.region) || parts[3] != req.region {
			return "", apiErrf(400, "ServiceSettingNotFound", "Setting %s is not found.", id)
		}
		id = strings.TrimPrefix(parts[5], "servicesetting")
	}
	if _, ok := knownSettings[id]; !ok {
		return "", apiErrf(400, "ServiceSettingNotFound", "Setting %s is not found.", *raw)
	}
	return id, nil
}

// ssmDecodeSetting decodes a request that names one service setting and
// resolves its SettingId to the short ID.
func (s *Server) ssmDecodeSetting(req *request) (ssmInput, string, *apiError) {
	in, e := s.ssmDecode(req)
	if e != nil {
		return in, "", e
	}
	id, e := resolveSetting(req, in.SettingID)
	return in, id, e
}

func settingARN(req *request, id string) string {
	return fmt.Sprintf("arn:%s:ssm:%s:%s:servicesetting%s", partitionOf(req.region), req.region, req.account, id)
}

// wireSetting renders a setting; callers hold s.mu.
func wireSetting(req *request, id string, st *settingState) ssmServiceSetting {
	status := st.Status
	if st.pending {
		status = StatusPendingUpdate
	}
	return ssmServiceSetting{
		SettingID: id, SettingValue: st.Value, Status: status,
		LastModifiedUser: st.LastModifiedUser,
		LastModifiedDate: float64(st.LastModifiedDate.UnixMilli()) / 1000,
		ARN:              settingARN(req, id),
	}
}

func (s *Server) ssmGetServiceSetting(req *request) (any, *apiError) {
	_, id, e := s.ssmDecodeSetting(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]any{"ServiceSetting": wireSetting(req, id, s.setting(req.account, req.region, id))}, nil
}

func tooManyUpdates() *apiError {
	return apiErr(400, "TooManyUpdates", "There are concurrent updates for a resource that supports one update at a time.")
}

func (s *Server) ssmUpdateServiceSetting(req *request) (any, *apiError) {
	in, id, e := s.ssmDecodeSetting(req)
	if e != nil {
		return nil, e
	}
	if in.SettingValue == nil || *in.SettingValue == "" || len(*in.SettingValue) > 4096 {
		return nil, apiErr(400, "ValidationException", "1 validation error detected: Value at 'settingValue' failed to satisfy constraint: Member must have length between 1 and 4096")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.setting(req.account, req.region, id)
	if st.pending {
		return nil, tooManyUpdates()
	}
	if id == dhmcSettingID {
		name := *in.SettingValue
		if i := strings.LastIndex(name, "/"); i >= 0 {
			name = name[i+1:]
		}
		if e := s.roleVisible(req.account, name); e != nil {
			return nil, e
		}
		s.checkNamedRole(req, *in.SettingValue)
	}
	s.modify(req, st, *in.SettingValue, StatusCustomized)
	return struct{}{}, nil
}

// roleVisible applies the IAM visibility lag; callers hold s.mu.
func (s *Server) roleVisible(account, name string) *apiError {
	a := s.acct(account)
	if a.lag == 0 {
		return nil
	}
	key := strings.ToLower(name)
	_, exists := a.roles[key]
	if n := a.invisible[key]; n > 0 {
		a.invisible[key] = n - 1
		exists = false
	}
	if !exists {
		return apiErrf(400, RoleNotVisibleCode, "The role %s does not exist or cannot be assumed by ssm.amazonaws.com.", name)
	}
	return nil
}

// modify records a change; callers hold s.mu.
func (s *Server) modify(req *request, st *settingState, value, status string) {
	st.Value, st.Status = value, status
	st.LastModifiedUser = "System"
	if s.stampCallers {
		st.LastModifiedUser = req.caller
	}
	st.LastModifiedDate = time.Now().UTC()
}

// checkNamedRole records a DHMC setting write whose value names a role that
// does not exist at that path; callers hold s.mu.
func (s *Server) checkNamedRole(req *request, value string) {
	if value == "$None" {
		return
	}
	path, name := "/", value
	if i := strings.LastIndex(value, "/"); i >= 0 {
		path, name = "/"+value[:i+1], value[i+1:]
	}
	if rs, ok := s.acct(req.account).roles[strings.ToLower(name)]; ok && rs.Path == path {
		return
	}
	s.dangling = append(s.dangling, req.account+" "+req.region+" "+value)
}

func (s *Server) ssmResetServiceSetting(req *request) (any, *apiError) {
	_, id, e := s.ssmDecodeSetting(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.setting(req.account, req.region, id)
	if st.pending {
		return nil, tooManyUpdates()
	}
	s.modify(req, st, knownSettings[id], StatusDefault)
	st.serviceManaged = ""
	return map[string]any{"ServiceSetting": wireSetting(req, id, st)}, nil
}

func (s *Server) ssmRegisterDHMC(req *request) (any, *apiError) {
	in, e := s.ssmDecode(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.setting(req.account, req.region, dhmcSettingID)
	if st.pending {
		return nil, tooManyUpdates()
	}
	a := s.acct(req.account)
	var roleARN, value, managed string
	switch in.PermissionModel {
	case "SELF_MANAGED":
		if in.RoleArn == nil || *in.RoleArn == "" {
			return nil, apiErr(400, "ValidationException", "RoleArn is required when PermissionModel is SELF_MANAGED.")
		}
		roleARN = *in.RoleArn
		acct, path, name, ok := parseRoleARN(roleARN)
		if !ok {
			return nil, apiErrf(400, "ValidationException", "Invalid RoleArn: %s", roleARN)
		}
		if acct != req.account {
			return nil, apiErrf(400, "ValidationException", "The role %s must be in account %s.", roleARN, req.account)
		}
		key := strings.ToLower(name)
		_, exists := a.roles[key]
		if n := a.invisible[key]; n > 0 {
			a.invisible[key] = n - 1
			exists = false
		}
		if !exists {
			return nil, apiErrf(400, RoleNotVisibleCode, "The role %s does not exist or cannot be assumed by ssm.amazonaws.com.", roleARN)
		}
		value = strings.TrimPrefix(path+name, "/")
	case "SERVICE_MANAGED":
		if in.RoleArn != nil {
			return nil, apiErr(400, "ValidationException", "RoleArn must not be set when PermissionModel is SERVICE_MANAGED.")
		}
		part := partitionOf(req.region)
		roleARN = fmt.Sprintf("arn:%s:iam::%s:role%s%s", part, req.account, ServiceManagedRolePath, dhmcRoleName)
		value = strings.TrimPrefix(ServiceManagedRolePath+dhmcRoleName, "/")
		if existing, ok := a.roles[strings.ToLower(dhmcRoleName)]; ok && existing.Path != ServiceManagedRolePath {
			// Role names are unique across paths: SSM cannot create its role
			// beside a customer's role of the same name. What SSM answers
			// here is not documented; EntityAlreadyExists is IAM's word.
			return nil, apiErrf(400, "ValidationException", "Role %s already exists at path %s; cannot create the service-managed role.", dhmcRoleName, existing.Path)
		}
		if _, ok := a.roles[strings.ToLower(dhmcRoleName)]; !ok {
			a.roles[strings.ToLower(dhmcRoleName)] = &roleState{
				Role: Role{
					Name: dhmcRoleName, Path: ServiceManagedRolePath, ARN: roleARN, TrustPolicy: ssmTrustPolicy,
					AttachedPolicies: []string{fmt.Sprintf("arn:%s:iam::aws:policy/%s", part, dhmcManagedPolicy)},
					InlinePolicies:   map[string]string{},
				},
				id: newRoleID(), created: time.Now().UTC(), maxSess: 3600,
			}
			managed = dhmcRoleName
		}
	default:
		return nil, apiErrf(400, "ValidationException", "1 validation error detected: Value '%s' at 'permissionModel' failed to satisfy constraint: Member must satisfy enum value set: [SERVICE_MANAGED, SELF_MANAGED]", in.PermissionModel)
	}
	if st.Value != "$None" && st.Value != "" && st.Value != value && !in.Overwrite {
		return nil, apiErrf(400, "ConflictException", "Default Host Management Configuration is already configured with role %s. Set Overwrite to replace it.", st.Value)
	}
	s.checkNamedRole(req, value)
	s.modify(req, st, value, StatusCustomized)
	st.serviceManaged = managed
	return map[string]any{"RoleArn": roleARN}, nil
}

func (s *Server) ssmDeregisterDHMC(req *request) (any, *apiError) {
	if _, e := s.ssmDecode(req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.setting(req.account, req.region, dhmcSettingID)
	if st.pending {
		return nil, tooManyUpdates()
	}
	managed := st.serviceManaged
	s.modify(req, st, "$None", StatusDefault)
	st.serviceManaged = ""
	if managed != "" {
		// The role SSM created goes with the last Region that uses it.
		a := s.acct(req.account)
		inUse := false
		for k, other := range a.settings {
			if k.id == dhmcSettingID && other.serviceManaged == managed {
				inUse = true
			}
		}
		if !inUse {
			delete(a.roles, strings.ToLower(managed))
		}
	}
	return struct{}{}, nil
}

// parseRoleARN splits arn:<p>:iam::<acct>:role<path><name>.
func parseRoleARN(arn string) (account, path, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", "", false
	}
	res := strings.TrimPrefix(parts[5], "role")
	i := strings.LastIndex(res, "/")
	path, name = res[:i+1], res[i+1:]
	if name == "" || !accountRE.MatchString(parts[4]) {
		return "", "", "", false
	}
	return parts[4], path, name, true
}
