package dhmc

import (
	"fmt"
	"strings"
)

// adminGrade are AWS managed policies that hand broad control of an account to
// whoever holds them. On the DHMC role they would reach every EC2 instance
// (dhmc-facts §4), so no configuration may allow them, nor use them as a
// boundary (a boundary that wide bounds nothing).
var adminGrade = []string{
	"AdministratorAccess",
	"AdministratorAccess-Amplify",
	"AdministratorAccess-AWSElasticBeanstalk",
	"PowerUserAccess",
	"IAMFullAccess",
	"AWSOrganizationsFullAccess",
	"job-function/SystemAdministrator",
	"job-function/NetworkAdministrator",
	"job-function/DatabaseAdministrator",
}

// IsAWSManagedPolicy reports whether arn is an AWS managed policy
// (arn:<partition>:iam::aws:policy/...), which no customer can change.
func IsAWSManagedPolicy(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[4] == "aws"
}

// AllowablePolicy checks a policy ARN that configuration allows on the role
// (what names the field, for the error): a managed policy ARN, without
// wildcards, and not admin-grade — any "*FullAccess" AWS managed policy
// included, since full access to one service through every instance is how
// an instance becomes an administrator.
func AllowablePolicy(arn, what string) error {
	switch {
	case strings.ContainsAny(arn, "*?"):
		return fmt.Errorf("%s %q: wildcards are not allowed: name each policy exactly", what, arn)
	case !policyARN.MatchString(arn):
		return fmt.Errorf("%s %q is not a managed policy ARN (arn:aws:iam::ACCOUNT:policy/NAME or arn:aws:iam::aws:policy/NAME)", what, arn)
	}
	if !IsAWSManagedPolicy(arn) {
		return nil
	}
	_, name, _ := strings.Cut(arn, ":policy/")
	for _, admin := range adminGrade {
		if strings.EqualFold(name, admin) {
			return fmt.Errorf("%s %q is admin-grade: every permission on the DHMC role reaches every EC2 instance in the account", what, arn)
		}
	}
	if strings.Contains(strings.ToLower(name), "fullaccess") {
		return fmt.Errorf("%s %q grants full access to a service: every permission on the DHMC role reaches every EC2 instance in the account", what, arn)
	}
	return nil
}
