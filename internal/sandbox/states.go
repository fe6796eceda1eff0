package sandbox

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// State is a named starting state of the sandboxed account, for `make invoke
// STATE=…` and the tests: what the account looks like when the function is
// invoked.
type State struct {
	Name        string
	Description string // one line, shown by make invoke
	// Env adds to the function's environment (Options.Env still wins), for a
	// state that needs another configuration, such as a role at another path.
	Env []string
	// Apply turns the compliant account Seed made into this state, once the
	// function runs. It works through the real APIs as the user (UserIAM,
	// UserSSM), so the emulator records who changed what, as CloudTrail and
	// LastModifiedUser would. Nil: the compliant account as seeded.
	Apply func(ctx context.Context, sb *Sandbox) error
}

// The names of the built-in states.
const (
	StateCompliant = "compliant"
	StateDrifted   = "drifted"
)

// states is the registry. To add a state, add an entry here; the tests of
// every consumer range over States().
var states = []State{
	{
		Name:        StateCompliant,
		Description: "the role and the setting in every managed Region exactly as desired",
	},
	{
		Name: StateDrifted,
		Description: "alice detached the managed policy, attached AdministratorAccess and an inline s3:* policy " +
			"to the role, and reset the setting in every managed Region",
		Apply: applyDrifted,
	},
}

// States returns the named states, in registry order.
func States() []State { return slices.Clone(states) }

// LookupState finds a state by name; the error lists the known names.
func LookupState(name string) (State, error) {
	for _, s := range states {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = s.Name
	}
	return State{}, fmt.Errorf("unknown sandbox state %q (known: %s)", name, strings.Join(names, ", "))
}

// applyDrifted breaks the role three ways and the setting everywhere: what
// the end-to-end tests call breakAll, so every sample event has something
// to repair (or to leave alone).
func applyDrifted(ctx context.Context, sb *Sandbox) error {
	d := Desired()
	c := sb.UserIAM()
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{
		RoleName: aws.String(d.RoleName), PolicyArn: aws.String(d.ManagedPolicyARN()),
	}); err != nil {
		return fmt.Errorf("detaching the managed policy: %w", err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
		RoleName: aws.String(d.RoleName), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"),
	}); err != nil {
		return fmt.Errorf("attaching AdministratorAccess: %w", err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(d.RoleName), PolicyName: aws.String("backdoor"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`),
	}); err != nil {
		return fmt.Errorf("putting an inline policy: %w", err)
	}
	for _, r := range Regions {
		if _, err := sb.UserSSM(r).ResetServiceSetting(ctx, &ssm.ResetServiceSettingInput{
			SettingId: aws.String(d.SettingARN(r)),
		}); err != nil {
			return fmt.Errorf("resetting the setting in %s: %w", r, err)
		}
	}
	return nil
}
