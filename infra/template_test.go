package infra_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

const mainTemplate = "template.yaml"

func TestFunctionIsBuiltAndSizedForTheGuard(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	fn := resource(t, r, "GuardFunction", "AWS::Serverless::Function")
	p := fn.Properties

	checks := []struct {
		name string
		got  any
		want string
	}{
		{"Runtime", p["Runtime"], "provided.al2023"},
		{"Handler", p["Handler"], "bootstrap"},
		{"Architectures", strings.Join(strs(p["Architectures"]), ","), "arm64"},
		{"MemorySize", p["MemorySize"], "128"},
		{"ReservedConcurrentExecutions", p["ReservedConcurrentExecutions"], "1"},
		{"Role", p["Role"], "getatt:GuardFunctionRole.Arn"},
		{"LoggingConfig.LogFormat", get(t, p, "LoggingConfig", "LogFormat"), "JSON"},
		{"LoggingConfig.ApplicationLogLevel", get(t, p, "LoggingConfig", "ApplicationLogLevel"), "INFO"},
		{"LoggingConfig.LogGroup", get(t, p, "LoggingConfig", "LogGroup"), "ref:GuardLogGroup"},
		{"Metadata.BuildMethod", get(t, fn.Metadata, "BuildMethod"), "go1.x"},
		{"EventInvokeConfig.MaximumRetryAttempts", get(t, p, "EventInvokeConfig", "MaximumRetryAttempts"), "2"},
		{"OnFailure.Type", get(t, p, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Type"), "SQS"},
		{"OnFailure.Destination", get(t, p, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination"), "getatt:FailureQueue.Arn"},
	}
	for _, c := range checks {
		if str(c.got) != c.want {
			t.Errorf("%s = %v, want %s", c.name, c.got, c.want)
		}
	}

	timeout, err := json.Number(str(p["Timeout"])).Int64()
	if err != nil || timeout < 120 || timeout > 900 {
		t.Errorf("Timeout = %v, want 120..900 s: a full sweep with retries must fit", p["Timeout"])
	}
	// sam build runs `go build` in CodeUri: it must be the main package.
	codeURI := str(p["CodeUri"])
	if _, err := os.Stat(filepath.Join(codeURI, "main.go")); err != nil {
		t.Errorf("CodeUri %s has no main.go: %v", codeURI, err)
	}
	if b := resource(t, r, "GuardLogGroup", "AWS::Logs::LogGroup"); b.Properties["RetentionInDays"] == nil {
		t.Error("the log group keeps logs forever; set RetentionInDays")
	}
}

func TestFunctionEnvironmentComesFromTheParameters(t *testing.T) {
	params := map[string]string{
		"RoleName":               "DhmcRole",
		"RolePath":               "/ops/",
		"ManagedRegions":         "eu-west-1,us-east-1",
		"Mode":                   "detect",
		"ExtraPolicyArns":        "arn:aws:iam::123456789012:policy/a,arn:aws:iam::123456789012:policy/b",
		"PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/boundary",
		"Parallelism":            "4",
		"LogLevel":               "DEBUG",
	}
	r := render(t, mainTemplate, envWith("", params))
	fn := resource(t, r, "GuardFunction", "AWS::Serverless::Function")
	vars, _ := get(t, fn.Properties, "Environment", "Variables").(map[string]any)

	want := map[string]string{
		"DHMC_TOPIC_ARN":                "ref:AlertTopic",
		"DHMC_FUNCTION_ROLE_ARN":        "getatt:GuardFunctionRole.Arn",
		"DHMC_ROLE_NAME":                "DhmcRole",
		"DHMC_ROLE_PATH":                "/ops/",
		"DHMC_REGIONS":                  "eu-west-1,us-east-1",
		"DHMC_MODE":                     "detect",
		"DHMC_EXTRA_POLICY_ARNS":        params["ExtraPolicyArns"],
		"DHMC_PERMISSIONS_BOUNDARY_ARN": params["PermissionsBoundaryArn"],
		"DHMC_PARALLELISM":              "4",
		"DHMC_EXCLUDED_REGIONS":         "",
		"DHMC_TAKE_OVER":                "false",
		"DHMC_REQUIRE_TRUST_CONDITION":  "false",
		"DHMC_ORGANIZATION_ID":          "",
		// The central view (internal/central.LoadConfig); off by default.
		"DHMC_CENTRAL_BUS_ARN":       "",
		"DHMC_CENTRAL_TOPIC_ARN":     "",
		"DHMC_LEDGER_TABLE":          "ref:LedgerTable",
		"DHMC_LEDGER_TTL_DAYS":       "90",
		"DHMC_FAILURE_QUEUE_URL":     "ref:FailureQueue",
		"DHMC_ALERT_WINDOW_MINUTES":  "60",
		"DHMC_FLAP_BACKOFF":          "false",
		"DHMC_SECURITY_HUB_FINDINGS": "false",
		"DHMC_LOG_LEVEL":             "DEBUG",
	}
	for k, w := range want {
		if got, ok := vars[k]; !ok || str(got) != w {
			t.Errorf("%s = %v, want %q", k, got, w)
		}
	}
	for k := range vars {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected variable %s: the configuration does not read it", k)
		}
	}
	if got := str(get(t, fn.Properties, "LoggingConfig", "ApplicationLogLevel")); got != "DEBUG" {
		t.Errorf("ApplicationLogLevel = %s, want the LogLevel parameter", got)
	}
}

func TestParameterDefaultsAreTheDocumentedOnes(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	want := map[string]string{
		"RoleName":                dhmcRoleName,
		"RolePath":                "/service-role/",
		"ManagedRegions":          "all",
		"Mode":                    "enforce",
		"ExtraPolicyArns":         "",
		"PermissionsBoundaryArn":  "",
		"ScheduleRate":            "rate(30 minutes)",
		"SweepAlarmPeriodSeconds": "3600",
		"LogLevel":                "INFO",
		"AlertEmail":              "",
		// The reconciler's own default, so leaving it out changes nothing.
		"Parallelism": strconv.Itoa(reconcile.DefaultParallelism),
	}
	for k, w := range want {
		if got, ok := r.Params[k]; !ok || got != w {
			t.Errorf("parameter %s default = %q, want %q", k, got, w)
		}
	}
}

func TestInvalidParametersAreRefused(t *testing.T) {
	tmpl, err := infra.Load(mainTemplate)
	if err != nil {
		t.Fatal(err)
	}
	for _, params := range []map[string]string{
		{"Mode": "check"},
		{"Mode": "Enforce"},
		{"LogLevel": "TRACE"},
		{"RolePath": "service-role/"},
		{"ManagedRegions": "eu-west-1, us-east-1"},
		{"RoleName": "has space"},
	} {
		if _, err := tmpl.Render(envWith("", params)); err == nil {
			t.Errorf("parameters %v accepted", params)
		}
	}
}

func TestScheduleSendsTheSchedulerPayload(t *testing.T) {
	r := render(t, mainTemplate, envWith("", map[string]string{"ScheduleRate": "rate(15 minutes)"}))
	fn := resource(t, r, "GuardFunction", "AWS::Serverless::Function")
	sweep := get(t, fn.Properties, "Events", "Sweep")
	if got := str(get(t, sweep, "Type")); got != "ScheduleV2" {
		t.Fatalf("Sweep event type = %s, want ScheduleV2", got)
	}
	if got := str(get(t, sweep, "Properties", "ScheduleExpression")); got != "rate(15 minutes)" {
		t.Errorf("ScheduleExpression = %s, want the ScheduleRate parameter", got)
	}
	var payload map[string]string
	if err := json.Unmarshal([]byte(str(get(t, sweep, "Properties", "Input"))), &payload); err != nil {
		t.Fatalf("Input is not JSON: %v", err)
	}
	want := map[string]string{
		"trigger":       "schedule",
		"scheduleArn":   "<aws.scheduler.schedule-arn>",
		"scheduledTime": "<aws.scheduler.scheduled-time>",
	}
	for k, w := range want {
		if payload[k] != w {
			t.Errorf("Input[%s] = %q, want %q", k, payload[k], w)
		}
	}
	if len(payload) != len(want) {
		t.Errorf("Input = %v, want exactly %v", payload, want)
	}
}

func TestAlertsAreEncryptedAndOnlyThisAccountPublishes(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	topic := resource(t, r, "AlertTopic", "AWS::SNS::Topic")
	if got := str(topic.Properties["KmsMasterKeyId"]); got != "ref:AlertKey" {
		t.Errorf("topic KmsMasterKeyId = %s, want the stack's key", got)
	}
	key := resource(t, r, "AlertKey", "AWS::KMS::Key")
	if str(key.Properties["EnableKeyRotation"]) != "true" {
		t.Error("alert key rotation is off")
	}
	// Alarms publish to an encrypted topic only if CloudWatch may use the key.
	cwMayUseKey := false
	for _, st := range statements(t, get(t, key.Properties, "KeyPolicy")) {
		if str(get(t, st, "Effect")) == "Allow" && principal(st) == "service:cloudwatch.amazonaws.com" {
			acts := strs(st["Action"])
			cwMayUseKey = slices.Contains(acts, "kms:Decrypt") && slices.Contains(acts, "kms:GenerateDataKey*") &&
				sourceAccountCondition(st) == account
		}
	}
	if !cwMayUseKey {
		t.Error("key policy does not let this account's CloudWatch alarms use the key")
	}

	policy := resource(t, r, "AlertTopicPolicy", "AWS::SNS::TopicPolicy")
	for _, st := range statements(t, get(t, policy.Properties, "PolicyDocument")) {
		if str(st["Effect"]) != "Allow" || !slices.Contains(strs(st["Action"]), "sns:Publish") {
			continue
		}
		switch p := principal(st); p {
		case "aws:getatt:GuardFunctionRole.Arn":
		case "aws:getatt:FleetFunctionRole.Arn": // fleet readiness report's digest (infra/fleet_test.go)
		case "service:cloudwatch.amazonaws.com":
			if sourceAccountCondition(st) != account {
				t.Errorf("statement %v lets any account's alarms publish", st["Sid"])
			}
		default:
			t.Errorf("statement %v lets %s publish", st["Sid"], p)
		}
	}

	queue := resource(t, r, "FailureQueue", "AWS::SQS::Queue")
	// Failed events hold CloudTrail details: the stack's key, which both
	// functions' roles may use to send them (iam_test, fleet_test).
	if got := str(queue.Properties["KmsMasterKeyId"]); got != "getatt:AlertKey.Arn" {
		t.Errorf("failure queue KmsMasterKeyId = %s, want the stack's key", got)
	}
}

func TestEmailSubscriptionOnlyWhenAnAddressIsGiven(t *testing.T) {
	without := render(t, mainTemplate, infra.DefaultEnv())
	for name, res := range without.Resources {
		if res.Type == "AWS::SNS::Subscription" {
			t.Errorf("subscription %s created without AlertEmail", name)
		}
	}
	with := render(t, mainTemplate, envWith("", map[string]string{"AlertEmail": "oncall@example.com"}))
	sub := resource(t, with, "AlertEmailSubscription", "AWS::SNS::Subscription")
	if str(sub.Properties["Protocol"]) != "email" || str(sub.Properties["Endpoint"]) != "oncall@example.com" ||
		str(sub.Properties["TopicArn"]) != "ref:AlertTopic" {
		t.Errorf("subscription = %v", sub.Properties)
	}
}

func TestAlarmsReachTheTopic(t *testing.T) {
	r := render(t, mainTemplate, envWith("", map[string]string{"SweepAlarmPeriodSeconds": "7200"}))
	tests := []struct {
		name, namespace, metric, dimension, treatMissing string
	}{
		{"FunctionErrorsAlarm", "AWS/Lambda", "Errors", "ref:GuardFunction", "notBreaching"},
		{"FailureQueueAlarm", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "getatt:FailureQueue.QueueName", "notBreaching"},
		// The guard itself died: no data is the alarm.
		// metrics emits SweepCompleted with no dimensions: the alarm must have none.
		{"SweepMissingAlarm", metrics.Namespace, metrics.SweepCompleted, "", "breaching"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := resource(t, r, tt.name, "AWS::CloudWatch::Alarm").Properties
			if str(a["Namespace"]) != tt.namespace || str(a["MetricName"]) != tt.metric {
				t.Errorf("metric = %v/%v, want %s/%s", a["Namespace"], a["MetricName"], tt.namespace, tt.metric)
			}
			if str(a["TreatMissingData"]) != tt.treatMissing {
				t.Errorf("TreatMissingData = %v, want %s", a["TreatMissingData"], tt.treatMissing)
			}
			if got := strs(a["AlarmActions"]); len(got) != 1 || got[0] != "ref:AlertTopic" {
				t.Errorf("AlarmActions = %v, want the alert topic", got)
			}
			if tt.dimension == "" && a["Dimensions"] != nil {
				t.Errorf("dimensions %v: the metric is emitted without any", a["Dimensions"])
			}
			if tt.dimension != "" {
				if got := str(get(t, a, "Dimensions", 0, "Value")); got != tt.dimension {
					t.Errorf("dimension = %s, want %s", got, tt.dimension)
				}
			}
		})
	}
	sweep := resource(t, r, "SweepMissingAlarm", "AWS::CloudWatch::Alarm").Properties
	if str(sweep["Period"]) != "7200" || str(sweep["ComparisonOperator"]) != "LessThanThreshold" || str(sweep["Threshold"]) != "1" {
		t.Errorf("sweep alarm = period %v, %v %v; want 7200 s, LessThanThreshold 1", sweep["Period"], sweep["ComparisonOperator"], sweep["Threshold"])
	}
}

func TestOutputsNameWhatTheREADMEUses(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	want := map[string]string{
		"FunctionName":    "ref:GuardFunction",
		"FunctionArn":     "getatt:GuardFunction.Arn",
		"FunctionRoleArn": "getatt:GuardFunctionRole.Arn",
		"AlertTopicArn":   "ref:AlertTopic",
		"FailureQueueUrl": "ref:FailureQueue",
		"HomeEventBusArn": "arn:aws:events:eu-west-1:" + account + ":event-bus/default",
	}
	for k, w := range want {
		if got := str(r.Outputs[k]); got != w {
			t.Errorf("output %s = %s, want %s", k, got, w)
		}
	}
}

func TestRendererRefusesWhatItCannotEvaluate(t *testing.T) {
	tests := map[string]string{
		"unknown tag":        "Resources:\n  A:\n    Type: X\n    Properties:\n      P: !Bogus x\n",
		"unknown reference":  "Resources:\n  A:\n    Type: X\n    Properties:\n      P: !Ref Nope\n",
		"unsupported intrin": "Resources:\n  A:\n    Type: X\n    Properties:\n      P: !GetAZs ''\n",
		"no default":         "Parameters:\n  P:\n    Type: String\nResources:\n  A:\n    Type: X\n",
		"duplicate key":      "Resources:\n  A:\n    Type: X\n    Type: Y\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			tmpl, err := infra.Parse([]byte(src))
			if err == nil {
				_, err = tmpl.Render(infra.DefaultEnv())
			}
			if err == nil {
				t.Error("no error")
			}
		})
	}
}
