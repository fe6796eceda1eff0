package reconcile

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// AssociationsAPI lists State Manager associations in one Region. The
// Region's SSM client (Clients.SSM) provides it when it can; a client that
// cannot simply leaves AWS's enforcer unnamed.
type AssociationsAPI interface {
	ListAssociations(ctx context.Context, params *ssm.ListAssociationsInput, optFns ...func(*ssm.Options)) (*ssm.ListAssociationsOutput, error)
}

// identifyAWSEnforcer names AWS's own DHMC enforcer: the Systems Manager
// console's organisation setup creates a daily association
// EnableDHMCAssociation whose roles carry Quick Setup's names, so a role of
// that name is Quick Setup's or the association's, and only the Region's
// association list tells which. Asked only for a Quick Setup-named role a
// setting names that is not the configured role at its path (a compliant
// sweep never asks), once per such Region. Fail open: a refused or failed
// read leaves the role recognised as Quick Setup's, never silenced.
func (rn *run) identifyAWSEnforcer(ctx context.Context, obs *dhmc.Observed) {
	d := rn.r.desired
	type ask struct{ key, region string }
	var asks []ask
	for _, s := range obs.Settings {
		name := namedRole(d, s.Value)
		key := strings.ToLower(name)
		r, ok := obs.Roles[key]
		if name == "" || !ok || !r.Exists || r.EnforcedBy != "" || !dhmc.IsQuickSetupRoleName(r.Name) {
			continue
		}
		if strings.EqualFold(r.Name, d.RoleNameIn(s.Region)) && r.Path == d.RolePath {
			continue // the configured role: nothing to identify
		}
		asks = append(asks, ask{key, s.Region})
	}
	found := make([]string, len(asks))
	forEach(len(asks), rn.r.opts.Parallelism, func(i int) {
		api, ok := rn.r.clients.SSM(asks[i].region).(AssociationsAPI)
		if !ok {
			return
		}
		found[i] = rn.enforcerIn(ctx, api)
	})
	for i, a := range asks {
		if found[i] != "" {
			r := obs.Roles[a.key]
			r.EnforcedBy = found[i]
			obs.Roles[a.key] = r
		}
	}
}

// enforcerIn is the name of AWS's DHMC association in the client's Region,
// or "" (none, or the list could not be read).
func (rn *run) enforcerIn(ctx context.Context, api AssociationsAPI) string {
	rn.calls.add("ssm:ListAssociations")
	out, err := api.ListAssociations(ctx, &ssm.ListAssociationsInput{
		AssociationFilterList: []ssmtypes.AssociationFilter{{
			Key: ssmtypes.AssociationFilterKeyAssociationName, Value: aws.String(dhmc.EnableDHMCAssociation),
		}},
	})
	if err != nil {
		return ""
	}
	for _, a := range out.Associations {
		if aws.ToString(a.AssociationName) == dhmc.EnableDHMCAssociation || aws.ToString(a.Name) == dhmc.EnableDHMCRunbook {
			return dhmc.EnableDHMCAssociation
		}
	}
	return ""
}
