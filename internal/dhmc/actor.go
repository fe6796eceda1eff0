package dhmc

import "strings"

// ssoRolePrefix starts the name of every role IAM Identity Center creates
// for a permission set: AWSReservedSSO_<PermissionSet>_<16 hex digits>.
const ssoRolePrefix = "AWSReservedSSO_"

// LastModifiedBySystem is what SSM answers as a setting's LastModifiedUser
// whoever changed it; UnknownActor is how that reads.
const (
	LastModifiedBySystem = "System"
	UnknownActor         = "unknown — see CloudTrail (SSM records every change as System)"
)

// Who turns the ARN of an IAM or STS principal into a short, readable "who"
// for on-call: "user alice", "role Deployer (session ci-1234)",
// "SSO user alice@example.com (permission set AdministratorAccess)",
// "root of account 123456789012", "federated user bob", "service
// config.amazonaws.com". SSM's LastModifiedUser "System" reads as unknown:
// real SSM answers it even right after a customer's change (dhmc-facts §9).
// Anything it does not recognise comes back unchanged, so nothing is hidden.
func Who(arn string) string {
	arn = strings.TrimSpace(arn)
	if arn == "" {
		return ""
	}
	if arn == LastModifiedBySystem {
		return UnknownActor
	}
	if !strings.HasPrefix(arn, "arn:") {
		if strings.HasSuffix(arn, ".amazonaws.com") {
			return "service " + arn
		}
		return arn
	}
	// arn:partition:service:region:account:resource; the resource may hold
	// further colons, so split into six at most.
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return arn
	}
	service, account, resource := parts[2], parts[4], parts[5]
	if service != "iam" && service != "sts" {
		return arn
	}
	if resource == "root" {
		return "root of account " + account
	}
	kind, rest, ok := strings.Cut(resource, "/")
	if !ok || rest == "" {
		return arn
	}
	switch {
	case service == "iam" && kind == "user":
		return "user " + lastSegment(rest)
	case service == "iam" && kind == "role":
		name := lastSegment(rest)
		if set, ok := ssoPermissionSet(name); ok {
			return "SSO permission set " + set
		}
		return "role " + name
	case service == "sts" && kind == "assumed-role":
		role, session, _ := strings.Cut(rest, "/")
		if set, ok := ssoPermissionSet(role); ok {
			if session == "" {
				return "SSO permission set " + set
			}
			return "SSO user " + session + " (permission set " + set + ")"
		}
		if session == "" {
			return "role " + role
		}
		return "role " + role + " (session " + session + ")"
	case service == "sts" && kind == "federated-user":
		return "federated user " + rest
	}
	return arn
}

// lastSegment is the name at the end of an IAM path ("a/b/name" -> "name").
func lastSegment(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// ssoPermissionSet extracts the permission set from an Identity Center role
// name. Permission set names may hold underscores themselves, so the random
// suffix is cut at the last one.
func ssoPermissionSet(role string) (string, bool) {
	rest, ok := strings.CutPrefix(role, ssoRolePrefix)
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}
