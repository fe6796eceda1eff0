package conformance_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/central"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// centralRule renders infra/org/central.yaml and returns its bus name and
// the rule's pattern.
func centralRule(t *testing.T) (busName string, pattern any) {
	t.Helper()
	tmpl, err := infra.Load(filepath.Join("..", "..", "infra", "org", "central.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := infra.DefaultEnv()
	env.Params = map[string]string{"OrganizationId": "o-a1b2c3d4e5"}
	r, err := tmpl.Render(env)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(r.Resources["CentralBus"].Properties["Name"]), r.Resources["ToOnCall"].Properties["EventPattern"]
}

// The guard's publisher, through the real SDK, to moto's EventBridge: a
// bus named as central.yaml names it, with central.yaml's rule in front of
// an SQS queue. What reaches the queue is what the central account's
// on-call would get.
func TestCentralEventsReachTheCentralRuleThroughMoto(t *testing.T) {
	endpoint := moto(t)
	ctx := t.Context()
	cfg := awsConfig("eu-west-1")
	eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(endpoint) })
	q := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })

	busName, pattern := centralRule(t)
	bus, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(busName)})
	if err != nil {
		t.Fatalf("CreateEventBus: %v", err)
	}
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("central-on-call")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String("dhmc-guard-to-on-call"), EventBusName: aws.String(busName),
		EventPattern: aws.String(string(raw)), State: ebtypes.RuleStateEnabled,
	}); err != nil {
		t.Fatalf("PutRule %s: %v", raw, err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String("dhmc-guard-to-on-call"), EventBusName: aws.String(busName),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}},
	}); err != nil {
		t.Fatal(err)
	}

	cc, err := central.LoadConfig(func(k string) string {
		if k == central.EnvBusARN {
			return aws.ToString(bus.EventBusArn)
		}
		return ""
	})
	if err != nil {
		t.Fatalf("moto's bus ARN %s: %v", aws.ToString(bus.EventBusArn), err)
	}
	p := central.Publisher{Config: cc, Bus: eb}
	report := &dhmc.Report{Cause: dhmc.Cause{Trigger: "schedule"}, AccountID: "123456789012", Mode: "enforce",
		StartedAt: "2026-03-10T10:00:00Z", Regions: []string{"eu-west-1"}, RoleChecked: true,
		Results: []dhmc.Result{{Finding: dhmc.Finding{Kind: dhmc.KindSettingDisabled, Region: "eu-west-1",
			Observed: "$None", Desired: "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole", Action: dhmc.ActionUpdateSetting},
			Outcome: dhmc.OutcomeDone}},
		Calls: map[string]int{"ssm:GetServiceSetting": 1}, Reads: 1, Writes: 1}
	if err := p.PublishRun(ctx, report); err != nil {
		t.Fatalf("PublishRun: %v", err)
	}
	if err := p.PublishSummary(ctx, central.BuildSummary(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), []dhmc.Report{*report})); err != nil {
		t.Fatalf("PublishSummary: %v", err)
	}
	// Another source on the same bus: the rule must not deliver it.
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: bus.EventBusArn, Source: aws.String("not-dhmc-guard"),
		DetailType: aws.String(central.DetailTypeRunReport), Detail: aws.String(`{"accountId":"123456789012"}`),
	}}}); err != nil {
		t.Fatal(err)
	}

	msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, m := range msgs.Messages {
		var ev struct {
			Source     string          `json:"source"`
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
			t.Fatalf("delivered message is not an event: %v", err)
		}
		if ev.Source != central.Source {
			t.Errorf("delivered an event from %s", ev.Source)
		}
		types = append(types, ev.DetailType)
		if ev.DetailType == central.DetailTypeRunReport {
			var back dhmc.Report
			if err := json.Unmarshal(ev.Detail, &back); err != nil || !reflect.DeepEqual(&back, report) {
				t.Errorf("the run report arrived as %s (%v)", ev.Detail, err)
			}
		}
	}
	slices.Sort(types)
	if want := []string{central.DetailTypeDailySummary, central.DetailTypeRunReport}; !slices.Equal(types, want) {
		t.Errorf("delivered %v, want %v", types, want)
	}
}
