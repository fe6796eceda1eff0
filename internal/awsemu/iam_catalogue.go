package awsemu

import (
	"strings"
	"time"
)

// awsManagedPolicies are the AWS managed policies that exist in the emulator
// (in every partition), by the resource part of their ARN. They are real
// AWS managed policy names, enough for realistic allowlists and instance
// profiles; the emulator has no others, so a misspelt name is NoSuchEntity
// as in IAM.
var awsManagedPolicies = []string{
	// Systems Manager and the instance-side policies a fleet report meets.
	"policy/AmazonSSMManagedEC2InstanceDefaultPolicy",
	"policy/AmazonSSMManagedInstanceCore",
	"policy/service-role/AmazonEC2RoleforSSM",
	"policy/AmazonSSMPatchAssociation",
	"policy/AmazonSSMFullAccess",
	"policy/AmazonSSMReadOnlyAccess",
	"policy/AmazonSSMDirectoryServiceAccess",
	"policy/AmazonSSMAutomationApproverAccess",
	"policy/service-role/AmazonSSMAutomationRole",
	"policy/service-role/AmazonSSMMaintenanceWindowRole",
	"policy/CloudWatchAgentServerPolicy",
	"policy/CloudWatchAgentAdminPolicy",
	"policy/AWSXRayDaemonWriteAccess",
	"policy/AmazonInspector2ReadOnlyAccess",
	"policy/AmazonInspector2FullAccess",
	// Broad access.
	"policy/AdministratorAccess",
	"policy/PowerUserAccess",
	"policy/ReadOnlyAccess",
	"policy/SecurityAudit",
	"policy/IAMFullAccess",
	"policy/IAMReadOnlyAccess",
	"policy/AWSSupportAccess",
	"policy/AWSBillingReadOnlyAccess",
	"policy/AWSOrganizationsFullAccess",
	"policy/AWSOrganizationsReadOnlyAccess",
	// Job functions.
	"policy/job-function/Billing",
	"policy/job-function/DatabaseAdministrator",
	"policy/job-function/DataScientist",
	"policy/job-function/NetworkAdministrator",
	"policy/job-function/SupportUser",
	"policy/job-function/SystemAdministrator",
	"policy/job-function/ViewOnlyAccess",
	// Services applications commonly reach from an instance.
	"policy/AmazonEC2FullAccess",
	"policy/AmazonEC2ReadOnlyAccess",
	"policy/AmazonS3FullAccess",
	"policy/AmazonS3ReadOnlyAccess",
	"policy/AmazonDynamoDBFullAccess",
	"policy/AmazonDynamoDBReadOnlyAccess",
	"policy/AmazonRDSFullAccess",
	"policy/AmazonRDSReadOnlyAccess",
	"policy/AmazonVPCFullAccess",
	"policy/AmazonVPCReadOnlyAccess",
	"policy/AmazonSNSFullAccess",
	"policy/AmazonSNSReadOnlyAccess",
	"policy/AmazonSQSFullAccess",
	"policy/AmazonSQSReadOnlyAccess",
	"policy/AmazonKinesisFullAccess",
	"policy/AmazonAthenaFullAccess",
	"policy/AmazonElasticFileSystemFullAccess",
	"policy/AmazonElasticFileSystemReadOnlyAccess",
	"policy/AmazonRoute53FullAccess",
	"policy/AmazonRoute53ReadOnlyAccess",
	"policy/AmazonEventBridgeFullAccess",
	"policy/AmazonEventBridgeReadOnlyAccess",
	"policy/AmazonSESFullAccess",
	"policy/AmazonAPIGatewayAdministrator",
	"policy/AWSLambda_FullAccess",
	"policy/AWSLambda_ReadOnlyAccess",
	"policy/service-role/AWSLambdaBasicExecutionRole",
	"policy/service-role/AWSLambdaVPCAccessExecutionRole",
	"policy/AWSStepFunctionsFullAccess",
	"policy/CloudWatchFullAccess",
	"policy/CloudWatchReadOnlyAccess",
	"policy/CloudWatchLogsFullAccess",
	"policy/CloudWatchLogsReadOnlyAccess",
	"policy/AWSCloudFormationFullAccess",
	"policy/AWSCloudFormationReadOnlyAccess",
	"policy/AWSCloudTrail_FullAccess",
	"policy/AWSCloudTrail_ReadOnlyAccess",
	"policy/AWSConfigUserAccess",
	"policy/service-role/AWS_ConfigRole",
	"policy/AWSBackupFullAccess",
	"policy/AWSCertificateManagerReadOnly",
	"policy/AWSKeyManagementServicePowerUser",
	"policy/SecretsManagerReadWrite",
	"policy/AWSCodeCommitReadOnly",
	"policy/service-role/AWSCodeDeployRole",
	"policy/AmazonGuardDutyReadOnlyAccess",
	"policy/AWSSecurityHubReadOnlyAccess",
	"policy/AWSWAFReadOnlyAccess",
	"policy/ElasticLoadBalancingFullAccess",
	"policy/ElasticLoadBalancingReadOnly",
	"policy/AutoScalingFullAccess",
	"policy/AutoScalingReadOnlyAccess",
	// Containers.
	"policy/AmazonEC2ContainerRegistryReadOnly",
	"policy/AmazonEC2ContainerRegistryPowerUser",
	"policy/AmazonEC2ContainerRegistryFullAccess",
	"policy/AmazonEKSClusterPolicy",
	"policy/AmazonEKSWorkerNodePolicy",
	"policy/AmazonEKS_CNI_Policy",
	"policy/AmazonECS_FullAccess",
	"policy/service-role/AmazonECSTaskExecutionRolePolicy",
	"policy/service-role/AmazonEC2ContainerServiceforEC2Role",
}

// awsPolicyDoc is the default version of an AWS managed policy.
type awsPolicyDoc struct {
	version string
	created time.Time
	doc     string
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The SSM actions an instance's agent needs: shared by the three policies
// made for instances, which differ only around them.
const (
	ssmAgentCore = `"ssm:DescribeAssociation","ssm:GetDeployablePatchSnapshotForInstance","ssm:GetDocument","ssm:DescribeDocument","ssm:GetManifest",`
	ssmAgentTail = `"ssm:ListAssociations","ssm:ListInstanceAssociations","ssm:PutInventory","ssm:PutComplianceItems","ssm:PutConfigurePackageResult","ssm:UpdateAssociationStatus","ssm:UpdateInstanceAssociationStatus","ssm:UpdateInstanceInformation"`
	ssmChannels  = `{"Effect":"Allow","Action":["ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Resource":"*"},` +
		`{"Effect":"Allow","Action":["ec2messages:AcknowledgeMessage","ec2messages:DeleteMessage","ec2messages:FailMessage","ec2messages:GetEndpoint","ec2messages:GetMessages","ec2messages:SendReply"],"Resource":"*"}`
)

// awsPolicyDocs are the default-version documents of the catalogue policies
// whose meaning the emulator's users evaluate, as AWS publishes them (the
// versions and documents agree with moto 5.2.5's snapshot of AWS's managed
// policies, which `make conformance` checks for the three SSM ones). GetPolicyVersion of any other catalogue
// policy answers 501 NotImplemented, naming the gap, rather than invent a
// document.
var awsPolicyDocs = map[string]awsPolicyDoc{
	"policy/AmazonSSMManagedInstanceCore": {"v2", day("2019-05-23"),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + ssmAgentCore + `"ssm:GetParameter","ssm:GetParameters",` + ssmAgentTail + `],"Resource":"*"},` + ssmChannels + `]}`},
	// v2 (2024) added the Sids; the actions are v1's.
	"policy/AmazonSSMManagedEC2InstanceDefaultPolicy": {"v2", day("2024-07-16"),
		`{"Version":"2012-10-17","Statement":[{"Sid":"AllowSSMAgentPermissions","Effect":"Allow","Action":[` + ssmAgentCore + ssmAgentTail + `],"Resource":"*"},` +
			`{"Sid":"AllowSSMChannelMessaging","Effect":"Allow","Action":["ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Resource":"*"},` +
			`{"Sid":"AllowSSMLegacyMessaging","Effect":"Allow","Action":["ec2messages:AcknowledgeMessage","ec2messages:DeleteMessage","ec2messages:FailMessage","ec2messages:GetEndpoint","ec2messages:GetMessages","ec2messages:SendReply"],"Resource":"*"}]}`},
	// Deprecated by AWS in favour of AmazonSSMManagedInstanceCore, still
	// attached to many old instance profiles.
	"policy/service-role/AmazonEC2RoleforSSM": {"v8", day("2019-01-24"),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + ssmAgentCore + `"ssm:GetParameters",` + ssmAgentTail + `],"Resource":"*"},` + ssmChannels + `,` +
			`{"Effect":"Allow","Action":["cloudwatch:PutMetricData"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["ec2:DescribeInstanceStatus"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["ds:CreateComputer","ds:DescribeDirectories"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:DescribeLogGroups","logs:DescribeLogStreams","logs:PutLogEvents"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["s3:GetBucketLocation","s3:PutObject","s3:GetObject","s3:GetEncryptionConfiguration","s3:AbortMultipartUpload","s3:ListMultipartUploadParts","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"*"}]}`},
	"policy/AmazonSSMPatchAssociation": {"v1", day("2020-05-13"),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:DescribeEffectivePatchesForPatchBaseline","Resource":"arn:aws:ssm:*:*:patchbaseline/*"},{"Effect":"Allow","Action":"ssm:GetPatchBaseline","Resource":"arn:aws:ssm:*:*:patchbaseline/*"},{"Effect":"Allow","Action":"tag:GetResources","Resource":"*"},{"Effect":"Allow","Action":"ssm:DescribePatchBaselines","Resource":"*"}]}`},
	"policy/CloudWatchAgentServerPolicy": {"v3", day("2024-02-06"),
		`{"Version":"2012-10-17","Statement":[{"Sid":"CWACloudWatchServerPermissions","Effect":"Allow","Action":["cloudwatch:PutMetricData","ec2:DescribeVolumes","ec2:DescribeTags","logs:PutLogEvents","logs:PutRetentionPolicy","logs:DescribeLogStreams","logs:DescribeLogGroups","logs:CreateLogStream","logs:CreateLogGroup","xray:PutTraceSegments","xray:PutTelemetryRecords","xray:GetSamplingRules","xray:GetSamplingTargets","xray:GetSamplingStatisticSummaries"],"Resource":"*"},{"Sid":"CWASSMServerPermissions","Effect":"Allow","Action":["ssm:GetParameter"],"Resource":"arn:aws:ssm:*:*:parameter/AmazonCloudWatch-*"}]}`},
	"policy/AdministratorAccess": {"v1", day("2015-02-06"),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	"policy/PowerUserAccess": {"v12", day("2026-02-12"),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetGovCloudAccountInformation","account:GetPrimaryEmail","account:ListRegions","iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeEffectivePolicy","organizations:DescribeOrganization"],"Resource":"*"}]}`},
	"policy/AmazonS3ReadOnlyAccess": {"v3", day("2023-08-10"),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}`},
	"policy/AmazonSSMFullAccess": {"v4", day("2019-11-20"),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudwatch:PutMetricData","ds:CreateComputer","ds:DescribeDirectories","ec2:DescribeInstanceStatus","logs:*","ssm:*","ec2messages:*"],"Resource":"*"},{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"arn:aws:iam::*:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM*","Condition":{"StringLike":{"iam:AWSServiceName":"ssm.amazonaws.com"}}},{"Effect":"Allow","Action":["iam:DeleteServiceLinkedRole","iam:GetServiceLinkedRoleDeletionStatus"],"Resource":"arn:aws:iam::*:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM*"},{"Effect":"Allow","Action":["ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Resource":"*"}]}`},
}

// awsPolicyDocOf returns the carried default version of an AWS managed
// policy ARN (any partition), if the emulator has its document.
func awsPolicyDocOf(arn string) (awsPolicyDoc, bool) {
	_, res, ok := strings.Cut(arn, ":iam::aws:")
	if !ok {
		return awsPolicyDoc{}, false
	}
	d, ok := awsPolicyDocs[res]
	return d, ok
}
