package awsemu

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// DefaultUserName is the IAM user in DefaultAccount that every access key
// not mapped by SetCaller belongs to. (An access key is never a user name:
// IAM names the user, and the key is one of its credentials.)
const DefaultUserName = "awsemu-user"

// defaultIdentity is the caller of an unmapped access key in a Region.
func defaultIdentity(region string) identity {
	return identity{
		account: DefaultAccount,
		arn:     fmt.Sprintf("arn:%s:iam::%s:user/%s", partitionOf(region), DefaultAccount, DefaultUserName),
	}
}

// userID is what sts:GetCallerIdentity answers as UserId for a caller ARN,
// in the shapes STS documents: the unique ID of an IAM user (AIDA…, 21
// characters); for an assumed role, the role's unique ID (AROA…) and the
// session name, colon-separated; for the root user, the account ID; for a
// federated user, the account and the user name. Unique IDs are derived from
// the ARN, so they stay the same from call to call; an assumed role that
// exists in the emulator answers its own RoleId, as GetRole reports it.
func (s *Server) userID(account, callerARN string) string {
	resource := arnResource(callerARN)
	switch {
	case resource == "root":
		return account
	case strings.HasPrefix(resource, "assumed-role/"):
		parts := strings.Split(strings.TrimPrefix(resource, "assumed-role/"), "/")
		role, session := parts[0], parts[len(parts)-1]
		return s.roleUniqueID(account, role) + ":" + session
	case strings.HasPrefix(resource, "federated-user/"):
		return account + ":" + strings.TrimPrefix(resource, "federated-user/")
	default:
		return uniqueID("AIDA", callerARN)
	}
}

// arnResource is the part of an ARN after "arn:partition:service:region:account:".
func arnResource(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	return parts[5]
}

// roleUniqueID is the RoleId of a role in the emulator, or one derived from
// its name when the role is not there (a caller mapped to a role that was
// never seeded).
func (s *Server) roleUniqueID(account, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[account]; ok {
		if rs, ok := a.roles[strings.ToLower(name)]; ok {
			return rs.id
		}
	}
	return uniqueID("AROA", account+"/"+name)
}

// uniqueID is an IAM unique ID: a four-letter prefix and 17 characters of
// IAM's alphabet (upper-case letters and the digits 2 to 7), derived from
// seed.
func uniqueID(prefix, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}
