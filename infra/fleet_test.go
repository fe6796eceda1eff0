package infra_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/fleet"
)

// fleetGrants returns the fleet role's Allow statements by Sid.
func fleetGrants(t *testing.T) (map[string]map[string]any, []string) {
	t.Helper()
	r := render(t, mainTemplate, infra.DefaultEnv())
	role := resource(t, r, "FleetFunctionRole", "AWS::IAM::Role")
	trust := statements(t, get(t, role.Properties, "AssumeRolePolicyDocument"))
	if len(trust) != 1 || principal(trust[0]) != "service:lambda.amazonaws.com" || sourceAccountCondition(trust[0]) != account {
		t.Errorf("fleet role trust = %v, want Lambda of this account only", trust)
	}
	if role.Properties["ManagedPolicyArns"] != nil {
		t.Errorf("fleet role has managed policies %v", role.Properties["ManagedPolicyArns"])
	}
	out := map[string]map[string]any{}
	var grants []string
	for _, pol := range role.Properties["Policies"].([]any) {
		for _, st := range statements(t, get(t, pol, "PolicyDocument")) {
			if str(st["Effect"]) != "Allow" || st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("statement %v: only plain Allow statements belong here", st["Sid"])
			}
			out[str(st["Sid"])] = st
			for _, a := range strs(st["Action"]) {
				for _, res := range strs(st["Resource"]) {
					grants = append(grants, a+" on "+res)
				}
			}
		}
	}
	slices.Sort(grants)
	return out, grants
}

func TestFleetRoleIsReadOnlyAndScoped(t *testing.T) {
	_, got := fleetGrants(t)
	want := []string{
		"account:ListRegions on *",
		"ec2:DescribeInstances on *",
		"iam:GetInstanceProfile on arn:aws:iam::" + account + ":instance-profile/*",
		"iam:GetPolicy on arn:aws:iam::" + account + ":policy/*",
		"iam:GetPolicy on arn:aws:iam::aws:policy/*",
		"iam:GetPolicyVersion on arn:aws:iam::" + account + ":policy/*",
		"iam:GetPolicyVersion on arn:aws:iam::aws:policy/*",
		"iam:GetRolePolicy on arn:aws:iam::" + account + ":role/*",
		"iam:ListAttachedRolePolicies on arn:aws:iam::" + account + ":role/*",
		"iam:ListRolePolicies on arn:aws:iam::" + account + ":role/*",
		"kms:Decrypt on getatt:AlertKey.Arn",
		"kms:GenerateDataKey on getatt:AlertKey.Arn",
		"logs:CreateLogStream on getatt:FleetLogGroup.Arn",
		"logs:PutLogEvents on getatt:FleetLogGroup.Arn",
		"sns:Publish on ref:AlertTopic",
		"sqs:SendMessage on getatt:FailureQueue.Arn",
		"ssm:DescribeInstanceInformation on *",
		"ssm:GetServiceSetting on arn:aws:ssm:*:" + account + settingSuffix,
		"ssm:DescribeInstanceInformation on *",
	}
	want = slices.Compact(slices.Sorted(slices.Values(want)))
	if !slices.Equal(got, want) {
		t.Errorf("fleet role grants\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Reads only: every action is a read, a log line, the digest, the failed
	// event to the failure queue (its destination), and the key those two
	// are encrypted with. A write to EC2, SSM or IAM fails here.
	writes := map[string]bool{"sns:Publish": true, "sqs:SendMessage": true, "logs:CreateLogStream": true, "logs:PutLogEvents": true, "kms:GenerateDataKey": true, "kms:Decrypt": true}
	for _, g := range got {
		action, res, _ := strings.Cut(g, " on ")
		_, verb, _ := strings.Cut(action, ":")
		read := strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List") || strings.HasPrefix(verb, "Describe")
		if !read && !writes[action] {
			t.Errorf("%s is not a read", action)
		}
		if strings.Contains(action, "*") {
			t.Errorf("wildcard action %s", action)
		}
		if res == "*" && !slices.Contains([]string{"ec2:DescribeInstances", "ssm:DescribeInstanceInformation", "account:ListRegions"}, action) {
			t.Errorf("%s on \"*\": IAM scopes it to a resource", action)
		}
	}
}

func TestFleetFunctionIsBuiltAndScheduled(t *testing.T) {
	r := render(t, mainTemplate, envWith("", map[string]string{"FleetReportSchedule": "cron(0 7 ? * SUN *)", "ManagedRegions": "eu-west-1,us-east-1", "Parallelism": "8"}))
	fn := resource(t, r, "FleetFunction", "AWS::Serverless::Function")
	p := fn.Properties
	for name, c := range map[string]struct {
		got  any
		want string
	}{
		"Runtime":       {p["Runtime"], "provided.al2023"},
		"Handler":       {p["Handler"], "bootstrap"},
		"Architectures": {strings.Join(strs(p["Architectures"]), ","), "arm64"},
		"Role":          {p["Role"], "getatt:FleetFunctionRole.Arn"},
		"LogGroup":      {get(t, p, "LoggingConfig", "LogGroup"), "ref:FleetLogGroup"},
		"LogFormat":     {get(t, p, "LoggingConfig", "LogFormat"), "JSON"},
		"BuildMethod":   {get(t, fn.Metadata, "BuildMethod"), "go1.x"},
		"Retries":       {get(t, p, "EventInvokeConfig", "MaximumRetryAttempts"), "0"},
		"OnFailure":     {get(t, p, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination"), "getatt:FailureQueue.Arn"},
		"OnFailureType": {get(t, p, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Type"), "SQS"},
		"Concurrency":   {p["ReservedConcurrentExecutions"], "1"},
	} {
		if str(c.got) != c.want {
			t.Errorf("%s = %v, want %s", name, c.got, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(str(p["CodeUri"]), "main.go")); err != nil {
		t.Errorf("CodeUri %v has no main.go: %v", p["CodeUri"], err)
	}
	if resource(t, r, "FleetLogGroup", "AWS::Logs::LogGroup").Properties["RetentionInDays"] == nil {
		t.Error("the fleet log group keeps logs forever")
	}
	vars := get(t, p, "Environment", "Variables").(map[string]any)
	wantVars := map[string]string{fleet.EnvTopicARN: "ref:AlertTopic", fleet.EnvRegions: "eu-west-1,us-east-1", fleet.EnvParallelism: "8", "DHMC_LOG_LEVEL": "INFO"}
	for k, w := range wantVars {
		if str(vars[k]) != w {
			t.Errorf("%s = %v, want %s", k, vars[k], w)
		}
	}
	if len(vars) != len(wantVars) {
		t.Errorf("variables %v, want exactly %v", vars, wantVars)
	}
	weekly := get(t, p, "Events", "Weekly")
	if str(get(t, weekly, "Type")) != "ScheduleV2" || str(get(t, weekly, "Properties", "ScheduleExpression")) != "cron(0 7 ? * SUN *)" {
		t.Errorf("schedule %v", weekly)
	}
	// The schedule's input is one the function accepts.
	input := str(get(t, weekly, "Properties", "Input"))
	sample := strings.NewReplacer("<aws.scheduler.schedule-arn>", "arn:aws:scheduler:eu-west-1:"+account+":schedule/default/x",
		"<aws.scheduler.scheduled-time>", "2026-11-30T06:00:00Z").Replace(input)
	if req, err := fleet.ParseInput([]byte(sample)); err != nil || req.Cause.Trigger != fleet.TriggerSchedule {
		t.Errorf("schedule input %s: %+v %v", input, req, err)
	}
	var payload map[string]string
	if err := json.Unmarshal([]byte(input), &payload); err != nil || payload["trigger"] != "schedule" {
		t.Errorf("schedule input %s", input)
	}
	if str(r.Outputs["FleetFunctionName"]) != "ref:FleetFunction" {
		t.Errorf("output FleetFunctionName = %v", r.Outputs["FleetFunctionName"])
	}
}

func TestFleetRoleMayPublishTheDigest(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	policy := resource(t, r, "AlertTopicPolicy", "AWS::SNS::TopicPolicy")
	found := false
	for _, st := range statements(t, get(t, policy.Properties, "PolicyDocument")) {
		if str(st["Sid"]) == "FleetReportDigest" {
			found = str(st["Effect"]) == "Allow" && principal(st) == "aws:getatt:FleetFunctionRole.Arn" &&
				slices.Equal(strs(st["Action"]), []string{"sns:Publish"}) && str(st["Resource"]) == "ref:AlertTopic"
		}
	}
	if !found {
		t.Error("the topic policy has no FleetReportDigest statement letting only the fleet role publish")
	}
}
