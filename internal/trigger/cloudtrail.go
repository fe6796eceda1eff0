package trigger

import (
	"encoding/json"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// CloudTrailDetail is the "detail" of an EventBridge event with detail-type
// "AWS API Call via CloudTrail": one CloudTrail management-event record.
// aws-lambda-go has no type for it. Only the fields dhmc-guard reads or
// reports are declared; the others (tlsDetails, resources, ...) are ignored.
type CloudTrailDetail struct {
	// EventVersion is the record format version, e.g. "1.09".
	EventVersion string `json:"eventVersion"`
	// UserIdentity is who made the call.
	UserIdentity UserIdentity `json:"userIdentity"`
	// EventTime is when the call was made, RFC 3339 in UTC.
	EventTime string `json:"eventTime"`
	// EventSource is the service endpoint: "ssm.amazonaws.com", "iam.amazonaws.com".
	EventSource string `json:"eventSource"`
	// EventName is the API operation, e.g. "DetachRolePolicy".
	EventName string `json:"eventName"`
	// AWSRegion is the Region the call was made in; us-east-1 for IAM. It
	// survives forwarding between buses (so does the envelope's "region":
	// EventBridge keeps where an event originated), and is what the
	// function reads.
	AWSRegion string `json:"awsRegion"`
	// SourceIPAddress is the caller's IP, or a service name such as
	// "cloudformation.amazonaws.com" or "AWS Internal".
	SourceIPAddress string `json:"sourceIPAddress"`
	// UserAgent is the caller's client ("aws-cli/2...", "AWS Internal", ...).
	UserAgent string `json:"userAgent"`
	// ErrorCode is set when the call failed, e.g. "AccessDenied".
	ErrorCode string `json:"errorCode,omitempty"`
	// ErrorMessage explains ErrorCode.
	ErrorMessage string `json:"errorMessage,omitempty"`
	// RequestParameters are the call's parameters as CloudTrail recorded
	// them, or null. Kept raw: their shape differs per operation and, for
	// some DHMC calls, is unconfirmed.
	RequestParameters json.RawMessage `json:"requestParameters"`
	// ResponseElements are the call's result, often null for writes.
	ResponseElements json.RawMessage `json:"responseElements"`
	// RequestID is the service's request ID.
	RequestID string `json:"requestID"`
	// EventID identifies the CloudTrail record; stable across redeliveries.
	EventID string `json:"eventID"`
	// ReadOnly is true for calls that change nothing.
	ReadOnly bool `json:"readOnly"`
	// EventType is "AwsApiCall" for API calls.
	EventType string `json:"eventType"`
	// ManagementEvent is true for control-plane calls such as these.
	ManagementEvent bool `json:"managementEvent"`
	// RecipientAccountID is the account the call was made in.
	RecipientAccountID string `json:"recipientAccountId"`
	// EventCategory is "Management" for these calls.
	EventCategory string `json:"eventCategory"`
}

// UserIdentity is CloudTrail's description of the caller.
type UserIdentity struct {
	// Type is "IAMUser", "AssumedRole", "Root", "AWSService",
	// "FederatedUser", "AWSAccount", "IdentityCenterUser", ...
	Type string `json:"type"`
	// PrincipalID is the unique ID; for an assumed role "AROA...:session".
	PrincipalID string `json:"principalId,omitempty"`
	// ARN is the caller's ARN: a user, an STS assumed-role session, root.
	// Absent for AWS services.
	ARN string `json:"arn,omitempty"`
	// AccountID owns the caller; it differs from RecipientAccountID for
	// cross-account calls.
	AccountID string `json:"accountId,omitempty"`
	// AccessKeyID is the key used (AKIA... long-term, ASIA... temporary).
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// UserName is set for IAM users.
	UserName string `json:"userName,omitempty"`
	// SessionContext is set for temporary credentials.
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
	// InvokedBy names the AWS service that made the call on the caller's
	// behalf, e.g. "cloudformation.amazonaws.com".
	InvokedBy string `json:"invokedBy,omitempty"`
}

// SessionContext describes temporary credentials.
type SessionContext struct {
	// SessionIssuer is the role (or user) the session came from. Its ARN is
	// how the function recognises its own calls.
	SessionIssuer SessionIssuer `json:"sessionIssuer,omitzero"`
	// Attributes hold the session's creation time and MFA state.
	Attributes SessionAttributes `json:"attributes,omitzero"`
}

// SessionIssuer is the IAM entity that issued a session.
type SessionIssuer struct {
	// Type is "Role" (or "IAMUser", "Root" for GetSessionToken sessions).
	Type string `json:"type"`
	// PrincipalID is the issuer's unique ID.
	PrincipalID string `json:"principalId,omitempty"`
	// ARN is the issuer's IAM ARN, with its path:
	// "arn:aws:iam::123456789012:role/service-role/Name".
	ARN string `json:"arn,omitempty"`
	// AccountID owns the issuer.
	AccountID string `json:"accountId,omitempty"`
	// UserName is the issuer's name (the role name for roles).
	UserName string `json:"userName,omitempty"`
}

// SessionAttributes are facts about the session.
type SessionAttributes struct {
	// CreationDate is when the session was created, RFC 3339.
	CreationDate string `json:"creationDate"`
	// MFAAuthenticated is "true" or "false" (a string in CloudTrail).
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// actor is a readable "who" for the caller.
func (u UserIdentity) actor(recipientAccount string) string {
	var who string
	switch {
	case u.Type == "AWSService":
		who = "service " + orDefault(u.InvokedBy, "(unnamed AWS service)")
	case u.ARN != "":
		who = dhmc.Who(u.ARN)
		if u.InvokedBy != "" {
			who += " via " + u.InvokedBy
		}
	case u.Type == "AWSAccount":
		who = "account " + orDefault(u.AccountID, "(unknown)")
		if u.PrincipalID != "" {
			who += " (principal " + u.PrincipalID + ")"
		}
	case u.PrincipalID != "":
		who = orDefault(u.Type, "principal") + " " + u.PrincipalID
	default:
		who = orDefault(u.Type, "unknown caller")
	}
	if u.AccountID != "" && recipientAccount != "" && u.AccountID != recipientAccount && u.Type != "Root" {
		who += " from account " + u.AccountID
	}
	return who
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
