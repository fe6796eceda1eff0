package trigger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

const (
	detailTypeCloudTrail = "AWS API Call via CloudTrail"
	detailTypeSchedule   = "Scheduled Event"
	sourceSSM            = "aws.ssm"
	sourceIAM            = "aws.iam"
	sourceEvents         = "aws.events"
)

// settingEvents change the DHMC setting when their settingId names it; the
// Register/Deregister calls always do (their request fields are unconfirmed,
// so they are not read).
var settingEvents = map[string]bool{
	"UpdateServiceSetting":                         true,
	"ResetServiceSetting":                          true,
	"RegisterDefaultHostManagementConfiguration":   true,
	"DeregisterDefaultHostManagementConfiguration": true,
}

// policyEvents change what a customer managed policy grants, named by
// requestParameters.policyArn: on an allowlisted policy or the boundary they
// change the DHMC role's privileges without touching the role.
var policyEvents = map[string]bool{
	"CreatePolicyVersion":     true,
	"SetDefaultPolicyVersion": true,
	"DeletePolicyVersion":     true,
}

// deniedCodes are the error codes of a call AWS refused for lack of
// permission: attempts worth telling on-call about. Any other failed call
// (NoSuchEntity, ValidationException, throttling, TooManyUpdates, ...)
// changed nothing and proves nothing about intent: logged and counted only.
var deniedCodes = map[string]bool{
	"AccessDenied":                       true,
	"AccessDeniedException":              true,
	"UnauthorizedOperation":              true,
	"UnauthorizedAccess":                 true,
	"Client.UnauthorizedOperation":       true,
	"AuthorizationError":                 true,
	"AuthorizationErrorException":        true,
	"NotAuthorized":                      true,
	"NotAuthorizedException":             true,
	"AccessDeniedForDependencyException": true,
}

// Denied reports whether a CloudTrail errorCode is an access denial.
func Denied(errorCode string) bool { return deniedCodes[errorCode] }

// roleEvents change a role named by requestParameters.roleName.
var roleEvents = map[string]bool{
	"DeleteRole":                    true,
	"UpdateAssumeRolePolicy":        true,
	"AttachRolePolicy":              true,
	"DetachRolePolicy":              true,
	"PutRolePolicy":                 true,
	"DeleteRolePolicy":              true,
	"PutRolePermissionsBoundary":    true,
	"DeleteRolePermissionsBoundary": true,
}

func parseEventBridge(raw []byte, cfg Config) (Request, error) {
	var env events.EventBridgeEvent
	if err := json.Unmarshal(raw, &env); err != nil {
		return Request{}, decodeErr("EventBridge event", err)
	}
	switch {
	case env.DetailType == detailTypeCloudTrail && (env.Source == sourceSSM || env.Source == sourceIAM):
		return parseCloudTrail(env, cfg)
	case env.DetailType == detailTypeCloudTrail:
		return Request{}, inputErrorf("CloudTrail event from source %q: only %q and %q are watched", truncate(env.Source, 64), sourceSSM, sourceIAM)
	case env.DetailType == detailTypeSchedule && env.Source == sourceEvents:
		return scheduled(env), nil
	case env.DetailType == detailTypeSchedule:
		return Request{}, inputErrorf("scheduled event from source %q: want %q", truncate(env.Source, 64), sourceEvents)
	}
	return Request{}, inputErrorf("EventBridge detail-type %q (source %q) is not handled: want %q or %q",
		truncate(env.DetailType, 64), truncate(env.Source, 64), detailTypeCloudTrail, detailTypeSchedule)
}

// scheduled is a full sweep from an EventBridge scheduled rule.
func scheduled(env events.EventBridgeEvent) Request {
	c := dhmc.Cause{Trigger: TriggerSchedule, EventName: detailTypeSchedule, EventID: env.ID, Region: env.Region}
	if !env.Time.IsZero() {
		c.EventTime = env.Time.UTC().Format(time.RFC3339)
	}
	if len(env.Resources) > 0 {
		c.ActorARN = env.Resources[0]
		c.Actor = "EventBridge rule " + lastPart(env.Resources[0])
	}
	return Request{Action: ActionReconcile, Role: true, Cause: c}
}

func parseCloudTrail(env events.EventBridgeEvent, cfg Config) (Request, error) {
	detail := bytes.TrimSpace(env.Detail)
	if len(detail) == 0 || detail[0] != '{' {
		return Request{}, inputErrorf("CloudTrail event: \"detail\" must be an object")
	}
	var d CloudTrailDetail
	if err := json.Unmarshal(detail, &d); err != nil {
		return Request{}, decodeErr("CloudTrail detail", err)
	}
	wantSource := strings.TrimPrefix(env.Source, "aws.") + ".amazonaws.com"
	switch {
	case d.EventSource != wantSource:
		return Request{}, inputErrorf("CloudTrail event: detail.eventSource %q does not match source %q (want %q)", truncate(d.EventSource, 64), env.Source, wantSource)
	case d.EventName == "":
		return Request{}, inputErrorf("CloudTrail event: detail.eventName is missing")
	case !dhmc.ValidRegion(d.AWSRegion):
		return Request{}, inputErrorf("CloudTrail event: detail.awsRegion %q is not a Region code", truncate(d.AWSRegion, 64))
	}
	params, err := requestParams(d.RequestParameters)
	if err != nil {
		return Request{}, err
	}

	r := Request{Cause: dhmc.Cause{
		Trigger:     TriggerCloudTrail,
		EventName:   d.EventName,
		EventSource: d.EventSource,
		EventID:     d.EventID,
		EventTime:   d.EventTime,
		Region:      d.AWSRegion,
		Actor:       d.UserIdentity.actor(d.RecipientAccountID),
		ActorARN:    d.UserIdentity.ARN,
		ActorType:   d.UserIdentity.Type,
		InvokedBy:   d.UserIdentity.InvokedBy,
		SourceIP:    d.SourceIPAddress,
		UserAgent:   d.UserAgent,
		ErrorCode:   d.ErrorCode,
		ErrorMsg:    d.ErrorMessage,
	}}
	if r.Cause.ActorARN == "" {
		r.Cause.ActorARN = d.UserIdentity.InvokedBy
	}

	// Loop protection first: the function's own calls, failed or not, are
	// already in the report of the run that made them.
	if isSelf(d.UserIdentity, cfg.SelfRoleARN) {
		return ignore(r, "own repair: the caller is this function's role "+cfg.SelfRoleARN), nil
	}

	var target string // what the event touched, for people
	switch env.Source {
	case sourceSSM:
		if !settingEvents[d.EventName] {
			return ignore(r, fmt.Sprintf("%s does not change the DHMC setting", d.EventName)), nil
		}
		if id, err := params.str("settingId"); err != nil {
			return Request{}, err
		} else if id != "" && !isDHMCSetting(id) {
			return ignore(r, fmt.Sprintf("%s on setting %q, not the DHMC setting", d.EventName, truncate(id, 200))), nil
		} else if id == "" && d.ErrorCode != "" && !strings.Contains(d.EventName, "DefaultHostManagement") {
			return ignore(r, fmt.Sprintf("failed %s without a settingId: cannot tell which setting it targeted", d.EventName)), nil
		}
		if !cfg.managed(d.AWSRegion) {
			return ignore(r, fmt.Sprintf("%s in %s, which is not a managed Region", d.EventName, d.AWSRegion)), nil
		}
		target = "the DHMC setting in " + d.AWSRegion
		r.Regions = []string{d.AWSRegion}
	case sourceIAM:
		if policyEvents[d.EventName] {
			arn, err := params.str("policyArn")
			if err != nil {
				return Request{}, err
			}
			if !slices.Contains(cfg.WatchedPolicies, arn) {
				return ignore(r, fmt.Sprintf("%s on policy %q, which is neither allowlisted on the DHMC role nor its boundary", d.EventName, truncate(arn, 200))), nil
			}
			target = "policy " + arn + ", which the DHMC role depends on"
			r.Policies = []string{arn}
			break
		}
		if !roleEvents[d.EventName] {
			return ignore(r, fmt.Sprintf("%s does not change the DHMC role", d.EventName)), nil
		}
		name, err := params.str("roleName")
		if err != nil {
			return Request{}, err
		}
		if name == "" && d.ErrorCode != "" {
			return ignore(r, fmt.Sprintf("failed %s without a roleName: cannot tell which role it targeted", d.EventName)), nil
		}
		if name != "" && !cfg.isDHMCRole(name) {
			return ignore(r, fmt.Sprintf("%s on role %q, not the DHMC role", d.EventName, truncate(name, 200))), nil
		}
		target = "the DHMC role " + cfg.roleName()
		if name != "" {
			target = "the DHMC role " + roleNameOf(name)
		}
		r.Role = true
	}

	if d.ErrorCode != "" {
		reason := fmt.Sprintf("%s on %s by %s failed with %s: nothing changed", d.EventName, target, r.Cause.Actor, truncate(d.ErrorCode, 100))
		if !Denied(d.ErrorCode) {
			return ignore(r, reason+" (not an access denial: counted, not alerted)"), nil
		}
		r.Regions, r.Role, r.Policies = nil, false, nil
		r.Action = ActionDenied
		r.Reason = reason
		return r, nil
	}
	r.Action = ActionReconcile
	return r, nil
}

func ignore(r Request, reason string) Request {
	r.Action, r.Reason, r.Regions, r.Role, r.Policies = ActionIgnore, reason, nil, false, nil
	return r
}

func (c Config) roleName() string {
	if c.RoleName == "" {
		return dhmc.DefaultRoleName
	}
	return c.RoleName
}

// params are CloudTrail's requestParameters, read by exact key.
type params map[string]json.RawMessage

func requestParams(raw json.RawMessage) (params, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, inputErrorf("CloudTrail event: detail.requestParameters must be an object or null, got %s", jsonKind(raw))
	}
	var p params
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, decodeErr("CloudTrail detail.requestParameters", err)
	}
	return p, nil
}

// str returns the string at key, "" when absent or null.
func (p params) str(key string) (string, error) {
	v, ok := p[key]
	if !ok || string(bytes.TrimSpace(v)) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", inputErrorf("CloudTrail event: detail.requestParameters.%s must be a string", key)
	}
	return s, nil
}

// isDHMCSetting accepts the setting's short ID or its ARN in any Region,
// account and partition.
func isDHMCSetting(id string) bool {
	if id == dhmc.SettingID {
		return true
	}
	return strings.HasPrefix(id, "arn:") && strings.HasSuffix(id, ":servicesetting"+dhmc.SettingID)
}

// isDHMCRole reports whether roleName (a name, or a role ARN) names a DHMC
// role: the configured name, or with a per-Region name, the name of a
// managed Region's role. IAM role names are unique in an account regardless
// of path and of case, so neither is compared.
func (c Config) isDHMCRole(roleName string) bool {
	name := roleNameOf(roleName)
	if name == "" {
		return false
	}
	want := c.roleName()
	base, perRegion := strings.CutSuffix(want, dhmc.RegionPlaceholder)
	if !perRegion {
		return strings.EqualFold(name, want)
	}
	if len(name) <= len(base) || !strings.EqualFold(name[:len(base)], base) {
		return false
	}
	region := name[len(base):]
	return dhmc.ValidRegion(region) && c.managed(region)
}

// roleNameOf is the name in a role name or role ARN; "" for another ARN.
func roleNameOf(roleName string) string {
	if strings.HasPrefix(roleName, "arn:") {
		_, n, ok := roleFromARN(roleName)
		if !ok {
			return ""
		}
		return n
	}
	return roleName
}

// isSelf reports whether u is a session of the role selfARN.
func isSelf(u UserIdentity, selfARN string) bool {
	selfAcct, selfName, ok := roleFromARN(selfARN)
	if !ok {
		return false
	}
	candidates := []string{}
	if u.SessionContext != nil {
		candidates = append(candidates, u.SessionContext.SessionIssuer.ARN)
	}
	if u.Type == "AssumedRole" {
		candidates = append(candidates, u.ARN)
	}
	for _, c := range candidates {
		acct, name, ok := roleFromARN(c)
		if ok && acct == selfAcct && strings.EqualFold(name, selfName) {
			return true
		}
	}
	return false
}

// roleFromARN reads the account and role name from an IAM role ARN (any
// path) or an STS assumed-role ARN.
func roleFromARN(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", false
	}
	service, account, resource := parts[2], parts[4], parts[5]
	switch {
	case service == "iam" && strings.HasPrefix(resource, "role/"):
		name = lastPart(resource)
	case service == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		name, _, _ = strings.Cut(strings.TrimPrefix(resource, "assumed-role/"), "/")
	default:
		return "", "", false
	}
	return account, name, account != "" && name != ""
}

// lastPart is what follows the last slash of an ARN.
func lastPart(s string) string {
	return s[strings.LastIndexByte(s, '/')+1:]
}
