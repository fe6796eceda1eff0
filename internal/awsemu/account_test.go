package awsemu_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func listEnabled(t *testing.T, c *account.Client, max int32) []string {
	t.Helper()
	var got []string
	p := account.NewListRegionsPaginator(c, &account.ListRegionsInput{
		MaxResults:              aws.Int32(max),
		RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListRegions: %v", err)
		}
		for _, r := range out.Regions {
			got = append(got, aws.ToString(r.RegionName))
		}
	}
	return got
}

func TestAccountListRegionsFiltersAndPaginates(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "us-east-1").account
	got := listEnabled(t, c, 5)
	want := slices.Sorted(slices.Values(awsemu.DefaultRegions))
	if !slices.Equal(got, want) {
		t.Errorf("enabled = %v, want %v", got, want)
	}
	if len(awsemu.DefaultRegions) != 17 {
		t.Errorf("DefaultRegions has %d Regions, want 17", len(awsemu.DefaultRegions))
	}

	s.SetEnabledRegions(awsemu.DefaultAccount, []string{"eu-west-1", "af-south-1"})
	got = listEnabled(t, c, 50)
	if !slices.Equal(got, []string{"af-south-1", "eu-west-1"}) {
		t.Errorf("enabled after SetEnabledRegions = %v", got)
	}
	out, err := c.ListRegions(t.Context(), &account.ListRegionsInput{RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusEnabled}})
	if err != nil || len(out.Regions) != 1 || aws.ToString(out.Regions[0].RegionName) != "af-south-1" {
		t.Errorf("opt-in enabled = %+v, %v", out, err)
	}
	_, err = c.ListRegions(t.Context(), &account.ListRegionsInput{MaxResults: aws.Int32(51)})
	var ve *accounttypes.ValidationException
	if !errorsAs(err, &ve) {
		t.Errorf("MaxResults 51: err = %v, want ValidationException", err)
	}
}

func TestSTSGetCallerIdentityReportsTheMappedCaller(t *testing.T) {
	s := awsemu.StartTest(t)
	s.SetCaller("AKIDOTHER", "210987654321", "arn:aws:sts::210987654321:assumed-role/Guard/fn")
	for _, tt := range []struct{ akid, account, arn string }{
		{"AKIDOTHER", "210987654321", "arn:aws:sts::210987654321:assumed-role/Guard/fn"},
		{"AKIDX", awsemu.DefaultAccount, "arn:aws:iam::123456789012:user/" + awsemu.DefaultUserName},
	} {
		out, err := sts.NewFromConfig(cfg(s, "eu-west-1", tt.akid)).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		if aws.ToString(out.Account) != tt.account || aws.ToString(out.Arn) != tt.arn {
			t.Errorf("identity = %s %s, want %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), tt.account, tt.arn)
		}
	}
}
