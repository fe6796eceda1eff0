package awsemu

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxPolicyDocument is the length constraint of IAM's policy document
// parameters (API reference, e.g. PutRolePolicy: "Maximum length of 131072").
const maxPolicyDocument = 131072

// IAM's checks of what a request names: policy documents (syntax, the
// trust policy's quota) and managed policy ARNs.

// checkPolicyDocument applies IAM's syntax checks to a policy document.
func checkPolicyDocument(doc string, trust bool) *apiError {
	if doc == "" {
		return apiErr(400, "ValidationError", "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	// Every document parameter (PutRolePolicy, CreateRole,
	// UpdateAssumeRolePolicy, CreatePolicy, CreatePolicyVersion) is at most
	// 131,072 characters, white space included; the quotas that leave white
	// space out are checked by the callers (nonSpaceLen).
	if utf8.RuneCountInString(doc) > maxPolicyDocument {
		return apiErrf(400, "ValidationError", "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: Member must have length less than or equal to %d", maxPolicyDocument)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return apiErr(400, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	stmts, ok := v["Statement"]
	if !ok {
		return apiErr(400, "MalformedPolicyDocument", "Missing required field Statement")
	}
	var list []any
	switch x := stmts.(type) {
	case []any:
		list = x
	case map[string]any:
		list = []any{x}
	default:
		return apiErr(400, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	for _, st := range list {
		m, ok := st.(map[string]any)
		if !ok {
			return apiErr(400, "MalformedPolicyDocument", "Syntax errors in policy.")
		}
		if eff, _ := m["Effect"].(string); eff != "Allow" && eff != "Deny" {
			return apiErr(400, "MalformedPolicyDocument", "Invalid effect or missing Effect")
		}
		_, hasPrincipal := m["Principal"]
		_, hasResource := m["Resource"]
		if trust && hasResource {
			return apiErr(400, "MalformedPolicyDocument", "Has prohibited field Resource")
		}
		if trust && !hasPrincipal {
			return apiErr(400, "MalformedPolicyDocument", "AssumeRolepolicy contained an invalid principal: missing Principal")
		}
		if !trust && hasPrincipal {
			return apiErr(400, "MalformedPolicyDocument", "Policy document should not specify a principal.")
		}
	}
	return nil
}

func nonSpaceLen(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func checkTrustPolicy(doc string) *apiError {
	if e := checkPolicyDocument(doc, true); e != nil {
		return e
	}
	if nonSpaceLen(doc) > trustPolicyQuota {
		return apiErrf(409, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d", trustPolicyQuota)
	}
	return nil
}

// policyExists reports whether a managed policy ARN names a policy; callers hold s.mu.
func (s *Server) policyExists(arn string) bool {
	if s.policies[arn] {
		return true
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[4] != "aws" {
		return false
	}
	switch parts[1] {
	case "aws", "aws-cn", "aws-us-gov":
		return slices.Contains(awsManagedPolicies, parts[5])
	}
	return false
}

// checkPolicyARN validates and resolves a managed policy ARN; callers hold s.mu.
func (s *Server) checkPolicyARN(arn, field string) *apiError {
	if arn == "" {
		return apiErrf(400, "ValidationError", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	if !policyARNRE.MatchString(arn) {
		return apiErrf(400, "InvalidInput", "ARN %s is not valid.", arn)
	}
	if !s.policyExists(arn) {
		if field == "permissionsBoundary" {
			return apiErrf(404, "NoSuchEntity", "Scope ARN: %s does not exist or is not attachable.", arn)
		}
		return apiErrf(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	return nil
}
