package awsemu_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func ec2Client(s *awsemu.Server, region string) *ec2.Client {
	return ec2.NewFromConfig(cfg(s, region, "AKIDTEST"))
}

func seedInstances(s *awsemu.Server, region string, n int) []string {
	profile := s.PutInstanceProfile(awsemu.DefaultAccount, awsemu.InstanceProfile{Name: "web"})
	var ids []string
	for i := range n {
		in := awsemu.Instance{ID: fmt.Sprintf("i-%017x", i+1), Name: fmt.Sprintf("web-%d", i)}
		switch i % 3 {
		case 1:
			in.State = "stopped"
		case 2:
			in.HTTPTokens = "optional"
			in.InstanceProfileARN = profile
		}
		ids = append(ids, s.PutInstance(awsemu.DefaultAccount, region, in))
	}
	return ids
}

func TestDescribeInstancesPagesThroughRunningInstances(t *testing.T) {
	s := awsemu.StartTest(t)
	all := seedInstances(s, "eu-west-1", 23)
	seedInstances(s, "us-east-1", 4) // another Region: never listed
	c := ec2Client(s, "eu-west-1")

	var got []string
	pages := 0
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{
		MaxResults: aws.Int32(5),
		Filters:    []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Reservations {
			if aws.ToString(r.OwnerId) != awsemu.DefaultAccount {
				t.Errorf("owner %v", r.OwnerId)
			}
			for _, in := range r.Instances {
				got = append(got, aws.ToString(in.InstanceId))
				if in.State.Name != ec2types.InstanceStateNameRunning || aws.ToInt32(in.State.Code) != 16 {
					t.Errorf("%s state %v", aws.ToString(in.InstanceId), in.State)
				}
				if in.MetadataOptions == nil || in.MetadataOptions.HttpEndpoint != ec2types.InstanceMetadataEndpointStateEnabled {
					t.Errorf("metadata options %+v", in.MetadataOptions)
				}
			}
		}
	}
	var want []string
	for i, id := range all {
		if i%3 != 1 {
			want = append(want, id)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if wantPages := (len(want) + 4) / 5; pages != wantPages {
		t.Errorf("%d pages, want %d", pages, wantPages)
	}
}

func TestDescribeInstancesShowsProfileTokensAndName(t *testing.T) {
	s := awsemu.StartTest(t)
	seedInstances(s, "eu-west-1", 3)
	profile, _ := s.InstanceProfileOf(awsemu.DefaultAccount, "web")
	out, err := ec2Client(s, "eu-west-1").DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{{Name: aws.String("metadata-options.http-tokens"), Values: []string{"optional"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("reservations %+v, want the one IMDSv1 instance", out.Reservations)
	}
	in := out.Reservations[0].Instances[0]
	if in.IamInstanceProfile == nil || aws.ToString(in.IamInstanceProfile.Arn) != profile.ARN || aws.ToString(in.IamInstanceProfile.Id) != profile.ID {
		t.Errorf("profile %+v, want %s %s", in.IamInstanceProfile, profile.ARN, profile.ID)
	}
	if in.MetadataOptions.HttpTokens != ec2types.HttpTokensStateOptional {
		t.Errorf("http tokens %v", in.MetadataOptions.HttpTokens)
	}
	// The Name first, then the tags an Auto Scaling group adds (the full
	// payload EC2 answers, about 4.7 KB an instance).
	if len(in.Tags) < 2 || aws.ToString(in.Tags[0].Key) != "Name" || aws.ToString(in.Tags[0].Value) != "web-2" ||
		aws.ToString(in.Tags[1].Key) != "aws:autoscaling:groupName" {
		t.Errorf("tags %+v", in.Tags)
	}
	if len(in.NetworkInterfaces) != 1 || len(in.BlockDeviceMappings) != 1 || in.CpuOptions == nil || aws.ToString(in.PrivateIpAddress) == "" {
		t.Errorf("the instance lacks what EC2 answers: interfaces %d volumes %d cpu %v ip %q",
			len(in.NetworkInterfaces), len(in.BlockDeviceMappings), in.CpuOptions, aws.ToString(in.PrivateIpAddress))
	}
	if in.LaunchTime == nil || aws.ToString(in.PlatformDetails) != "Linux/UNIX" {
		t.Errorf("launch time %v platform %v", in.LaunchTime, in.PlatformDetails)
	}
	if out.NextToken != nil {
		t.Errorf("next token %q without MaxResults", *out.NextToken)
	}
}

func TestDescribeInstancesRefusesWhatEC2Refuses(t *testing.T) {
	s := awsemu.StartTest(t)
	ids := seedInstances(s, "eu-west-1", 2)
	c := ec2Client(s, "eu-west-1")
	tests := []struct {
		name string
		in   ec2.DescribeInstancesInput
		code string
	}{
		{"MaxResults below 5", ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)}, "InvalidParameterValue"},
		{"MaxResults above 1000", ec2.DescribeInstancesInput{MaxResults: aws.Int32(1001)}, "InvalidParameterValue"},
		{"MaxResults with InstanceIds", ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: ids[:1]}, "InvalidParameterCombination"},
		{"bad token", ec2.DescribeInstancesInput{NextToken: aws.String("bogus!")}, "InvalidParameterValue"},
		{"unknown filter", ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("no-such-filter"), Values: []string{"x"}}}}, "InvalidParameterValue"},
		{"malformed ID", ec2.DescribeInstancesInput{InstanceIds: []string{"web-1"}}, "InvalidInstanceID.Malformed"},
		{"unknown ID", ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}}, "InvalidInstanceID.NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.DescribeInstances(t.Context(), &tt.in)
			if got := apiCode(err); got != tt.code {
				t.Errorf("error %v, want %s", err, tt.code)
			}
		})
	}
	out, err := c.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{InstanceIds: ids[1:]})
	if err != nil || len(out.Reservations) != 1 || aws.ToString(out.Reservations[0].Instances[0].InstanceId) != ids[1] {
		t.Errorf("by ID: %+v %v", out, err)
	}
}

func TestEC2FaultsAnswerWithEC2Codes(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ec2.NewFromConfig(cfg(s, "eu-west-1", "AKIDTEST"), func(o *ec2.Options) { o.Retryer = fastRetryer(1)() })
	for kind, code := range map[awsemu.FaultKind]string{
		awsemu.FaultThrottle:     "RequestLimitExceeded",
		awsemu.FaultServerError:  "InternalError",
		awsemu.FaultAccessDenied: "UnauthorizedOperation",
	} {
		remove := s.Inject(awsemu.Fault{Op: "ec2:DescribeInstances", Kind: kind})
		_, err := c.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{})
		remove()
		if got := apiCode(err); got != code {
			t.Errorf("fault %d: error %v, want %s", kind, err, code)
		}
	}
	if n := s.CountCalls(func(c awsemu.Call) bool { return c.Service == "ec2" && c.Region == "eu-west-1" }); n != 3 {
		t.Errorf("%d ec2 calls logged, want 3", n)
	}
}
