package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

// The fleet readiness report's reads, held to moto: EC2 DescribeInstances
// (paging, the running filter, the fields read), IAM instance profiles and
// managed policy versions, and (where moto has it) SSM's node list.

func errCode(err error) string {
	if err == nil {
		return "ok"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "error: " + err.Error()
}

const fleetRegion = "eu-west-1"

// seedMotoFleet launches the fleet through the API, one reservation per
// instance: every third instance stopped, every second IMDSv1 with the
// instance profile.
func seedMotoFleet(t *testing.T, c *ec2.Client, profileARN string, n int) {
	t.Helper()
	ctx := t.Context()
	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("moto has no images: %v", err)
	}
	for i := range n {
		in := &ec2.RunInstancesInput{
			ImageId: imgs.Images[0].ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro,
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(fmt.Sprintf("app-%02d", i))}}}},
			MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{HttpTokens: ec2types.HttpTokensStateRequired},
		}
		if i%2 == 1 {
			in.MetadataOptions.HttpTokens = ec2types.HttpTokensStateOptional
			in.IamInstanceProfile = &ec2types.IamInstanceProfileSpecification{Arn: aws.String(profileARN)}
		}
		out, err := c.RunInstances(ctx, in)
		if err != nil {
			t.Fatalf("RunInstances: %v", err)
		}
		if i%3 == 2 {
			if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{aws.ToString(out.Instances[0].InstanceId)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func seedEmuFleet(emu *awsemu.Server, profileARN string, n int) {
	for i := range n {
		in := awsemu.Instance{Name: fmt.Sprintf("app-%02d", i)}
		if i%2 == 1 {
			in.HTTPTokens, in.InstanceProfileARN = "optional", profileARN
		}
		if i%3 == 2 {
			in.State = "stopped"
		}
		emu.PutInstance(account, fleetRegion, in)
	}
}

// describeRunning pages through running instances 5 at a time and returns
// the page sizes and one line per instance with the fields the report reads.
func describeRunning(t *testing.T, c *ec2.Client, checkProfileID bool) (pages []int, rows []string) {
	t.Helper()
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{
		MaxResults: aws.Int32(5),
		Filters:    []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range out.Reservations {
			if aws.ToString(r.OwnerId) != account {
				t.Errorf("owner %q", aws.ToString(r.OwnerId))
			}
			for _, in := range r.Instances {
				n++
				name := ""
				for _, tag := range in.Tags {
					if aws.ToString(tag.Key) == "Name" {
						name = aws.ToString(tag.Value)
					}
				}
				profile := "-"
				if in.IamInstanceProfile != nil {
					profile = aws.ToString(in.IamInstanceProfile.Arn)
					// AWS answers the instance profile's ID (AIPA...); moto
					// answers its association ID (iip-assoc-...).
					if checkProfileID && !strings.HasPrefix(aws.ToString(in.IamInstanceProfile.Id), "AIPA") {
						t.Errorf("profile ID %q", aws.ToString(in.IamInstanceProfile.Id))
					}
				}
				tokens, endpoint := "", ""
				if in.MetadataOptions != nil {
					tokens, endpoint = string(in.MetadataOptions.HttpTokens), string(in.MetadataOptions.HttpEndpoint)
				}
				rows = append(rows, fmt.Sprintf("%s %s %s %s %s", name, in.State.Name, tokens, endpoint, profile))
			}
		}
		pages = append(pages, n)
	}
	sort.Strings(rows)
	return pages, rows
}

func TestFleetDescribeInstancesAgreesWithMoto(t *testing.T) {
	endpoint := moto(t)
	motoEC2 := ec2.NewFromConfig(awsConfig(fleetRegion), func(o *ec2.Options) { o.BaseEndpoint = aws.String(endpoint) })
	motoIAM := iam.NewFromConfig(awsConfig("us-east-1"), func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) })
	prof, err := motoIAM.CreateInstanceProfile(t.Context(), &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	seedMotoFleet(t, motoEC2, aws.ToString(prof.InstanceProfile.Arn), n)

	emu := awsemu.StartTest(t)
	emuProfile := emu.PutInstanceProfile(account, awsemu.InstanceProfile{Name: "app"})
	seedEmuFleet(emu, emuProfile, n)
	emuEC2 := ec2.NewFromConfig(awsConfig(fleetRegion), func(o *ec2.Options) { o.BaseEndpoint = aws.String(emu.URL()) })

	motoPages, motoRows := describeRunning(t, motoEC2, false)
	emuPages, emuRows := describeRunning(t, emuEC2, true)
	if !slices.Equal(motoPages, emuPages) {
		t.Errorf("pages of 5: moto %v, emulator %v", motoPages, emuPages)
	}
	if !slices.Equal(motoRows, emuRows) {
		t.Errorf("running instances differ:\nmoto     %v\nemulator %v", motoRows, emuRows)
	}
	if len(emuRows) != 8 {
		t.Errorf("%d running, want 8", len(emuRows))
	}

	// Both refuse MaxResults together with InstanceIds.
	for name, c := range map[string]*ec2.Client{"moto": motoEC2, "emulator": emuEC2} {
		out, err := c.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{})
		if err != nil || len(out.Reservations) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		id := out.Reservations[0].Instances[0].InstanceId
		_, err = c.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: []string{aws.ToString(id)}})
		if got := errCode(err); got != "InvalidParameterCombination" {
			t.Errorf("%s: MaxResults with InstanceIds: %s", name, got)
		}
	}
	// moto 5.2 does not check the MaxResults range (5..1000) nor the token,
	// and pages by reservation; those are checked against AWS's documented
	// behaviour in internal/awsemu's own tests.
}

// iamTranscript runs the instance-profile and policy-version calls the
// report relies on and writes down each outcome.
func iamTranscript(ctx context.Context, c *iam.Client) []string {
	var out []string
	note := func(what string, err error, extra ...string) {
		out = append(out, strings.Join(append([]string{what, errCode(err)}, extra...), " "))
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	for _, r := range []string{"app-role", "other-role"} {
		_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(trust)})
		note("CreateRole "+r, err)
	}
	_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app")})
	note("CreateInstanceProfile", err)
	_, err = c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app")})
	note("CreateInstanceProfile again", err)
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app"), RoleName: aws.String("app-role")})
	note("AddRoleToInstanceProfile", err)
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app"), RoleName: aws.String("other-role")})
	note("AddRoleToInstanceProfile second role", err)
	got, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("app")})
	roles := ""
	if err == nil {
		for _, r := range got.InstanceProfile.Roles {
			roles += aws.ToString(r.RoleName) + ","
		}
	}
	note("GetInstanceProfile", err, roles)
	_, err = c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("missing")})
	note("GetInstanceProfile missing", err)

	doc := func(action string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`)
	}
	p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("app-ssm"), PolicyDocument: doc("ssm:Update*")})
	note("CreatePolicy", err)
	if err != nil {
		return out
	}
	arn := p.Policy.Arn
	for i := 2; i <= 6; i++ {
		_, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: doc(fmt.Sprintf("s3:Get%d", i)), SetAsDefault: i == 3})
		note(fmt.Sprintf("CreatePolicyVersion %d", i), err)
	}
	gp, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
	def := ""
	if err == nil {
		def = aws.ToString(gp.Policy.DefaultVersionId)
	}
	note("GetPolicy default", err, def)
	pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v3")})
	decoded := ""
	if err == nil {
		decoded, _ = url.QueryUnescape(aws.ToString(pv.PolicyVersion.Document))
		decoded = strings.ReplaceAll(decoded, " ", "")
	}
	note("GetPolicyVersion v3", err, decoded)
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v3")})
	note("DeletePolicyVersion default", err)
	_, err = c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v1")})
	note("SetDefaultPolicyVersion v1", err)
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v3")})
	note("DeletePolicyVersion v3", err)
	lv, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: arn})
	var ids []string
	if err == nil {
		for _, v := range lv.Versions {
			ids = append(ids, aws.ToString(v.VersionId))
		}
		sort.Strings(ids) // IAM documents no order
	}
	note("ListPolicyVersions", err, strings.Join(ids, ","))

	for _, name := range []string{"AmazonSSMManagedInstanceCore", "service-role/AmazonEC2RoleforSSM", "AmazonSSMManagedEC2InstanceDefaultPolicy"} {
		arn := aws.String("arn:aws:iam::aws:policy/" + name)
		gp, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
		if err != nil {
			note("GetPolicy "+name, err)
			continue
		}
		v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: gp.Policy.DefaultVersionId})
		grants := ""
		if err == nil {
			d, _ := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
			grants = fmt.Sprint(strings.Contains(d, `"ssm:UpdateInstanceInformation"`))
		}
		note("GetPolicyVersion "+name+" "+aws.ToString(gp.Policy.DefaultVersionId), err, "grants="+grants)
	}
	return out
}

func TestFleetIAMReadsAgreeWithMoto(t *testing.T) {
	endpoint := moto(t)
	emu := awsemu.StartTest(t)
	motoIAM := iam.NewFromConfig(awsConfig("us-east-1"), func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) })
	emuIAM := iam.NewFromConfig(awsConfig("us-east-1"), func(o *iam.Options) { o.BaseEndpoint = aws.String(emu.URL()) })
	m, e := iamTranscript(t.Context(), motoIAM), iamTranscript(t.Context(), emuIAM)
	if len(m) != len(e) {
		t.Fatalf("transcripts differ in length:\nmoto     %q\nemulator %q", m, e)
	}
	for i := range m {
		if m[i] != e[i] {
			t.Errorf("moto     %s\nemulator %s", m[i], e[i])
		}
	}
	t.Logf("agreed on %d outcomes", len(m))
}

func TestFleetDescribeInstanceInformationAgainstMoto(t *testing.T) {
	endpoint := moto(t)
	c := ssm.NewFromConfig(awsConfig(fleetRegion), func(o *ssm.Options) { o.BaseEndpoint = aws.String(endpoint) })
	_, err := c.DescribeInstanceInformation(t.Context(), &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(50)})
	if err != nil {
		t.Skipf("moto does not implement ssm:DescribeInstanceInformation (%s): the emulator's node list is checked against the API reference in internal/awsemu", errCode(err))
	}
	_, err = c.DescribeInstanceInformation(t.Context(), &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(51)})
	if got := errCode(err); got != "ValidationException" {
		t.Errorf("MaxResults 51: %s, want ValidationException", got)
	}
}
