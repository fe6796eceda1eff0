package conformance_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/eventpattern"
)

// bus is moto's default event bus with one SQS queue per rule: what reaches
// a queue is what the rule matched.
type bus struct {
	t      *testing.T
	eb     *eventbridge.Client
	sqs    *sqs.Client
	queues map[string]string // rule name -> queue URL
}

func newBus(t *testing.T, endpoint string) *bus {
	cfg := awsConfig("eu-west-1")
	return &bus{
		t:      t,
		eb:     eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(endpoint) }),
		sqs:    sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) }),
		queues: map[string]string{},
	}
}

// addRule creates a rule with the pattern and a queue as its target.
func (b *bus) addRule(name string, pattern any) {
	b.t.Helper()
	ctx := b.t.Context()
	raw, err := json.Marshal(pattern)
	if err != nil {
		b.t.Fatal(err)
	}
	q, err := b.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("rule-" + name)})
	if err != nil {
		b.t.Fatalf("creating queue for %s: %v", name, err)
	}
	attrs, err := b.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		b.t.Fatal(err)
	}
	queueARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q}]}`, queueARN)
	if _, err := b.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: q.QueueUrl, Attributes: map[string]string{"Policy": policy},
	}); err != nil {
		b.t.Fatal(err)
	}
	if _, err := b.eb.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String(name), EventPattern: aws.String(string(raw)), State: ebtypes.RuleStateEnabled,
	}); err != nil {
		b.t.Fatalf("PutRule %s %s: %v", name, raw, err)
	}
	if _, err := b.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(name), Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueARN)}},
	}); err != nil {
		b.t.Fatal(err)
	}
	b.queues[name] = *q.QueueUrl
}

// put sends one event (an EventBridge envelope) and returns the rules it
// reached, checking each delivered copy is the event that was sent.
func (b *bus) put(event map[string]any) []string {
	b.t.Helper()
	ctx := b.t.Context()
	detail, err := json.Marshal(event["detail"])
	if err != nil {
		b.t.Fatal(err)
	}
	entry := ebtypes.PutEventsRequestEntry{
		Source:     aws.String(fmt.Sprint(event["source"])),
		DetailType: aws.String(fmt.Sprint(event["detail-type"])),
		Detail:     aws.String(string(detail)),
	}
	if res, ok := event["resources"].([]any); ok {
		for _, r := range res {
			entry.Resources = append(entry.Resources, fmt.Sprint(r))
		}
	}
	out, err := b.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
	if err != nil {
		b.t.Fatalf("PutEvents: %v", err)
	}
	if out.FailedEntryCount != 0 {
		b.t.Fatalf("PutEvents refused the event: %s %s", aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage))
	}
	var reached []string
	for rule, url := range b.queues {
		msgs, err := b.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			b.t.Fatal(err)
		}
		for _, m := range msgs.Messages {
			var got map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &got); err != nil {
				b.t.Fatalf("delivered message is not an event: %v", err)
			}
			var want any
			_ = json.Unmarshal(detail, &want)
			if !reflect.DeepEqual(got["detail"], want) {
				b.t.Fatalf("rule %s delivered another event's detail: %v", rule, got["detail"])
			}
			if _, err := b.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				b.t.Fatal(err)
			}
		}
		if len(msgs.Messages) > 0 {
			reached = append(reached, rule)
		}
		if len(msgs.Messages) > 1 {
			b.t.Errorf("rule %s delivered one event %d times", rule, len(msgs.Messages))
		}
	}
	sort.Strings(reached)
	return reached
}

var ruleGroups = map[string]string{
	"SsmSettingChange": "ssm", "SsmDhmcApiCall": "ssm", "IamRoleChange": "iam",
	// New default versions of the allowlisted policies and the boundary.
	"IamPolicyVersionChange": "iam",
}

func groups(rules []string) string {
	var out []string
	for _, r := range rules {
		if g := ruleGroups[r]; !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// templatePatterns renders infra/template.yaml with its defaults and returns
// the function's EventBridge patterns by event name.
func templatePatterns(t *testing.T) map[string]any {
	t.Helper()
	tmpl, err := infra.Load(filepath.Join("..", "..", "infra", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tmpl.Render(infra.DefaultEnv())
	if err != nil {
		t.Fatal(err)
	}
	events, _ := r.Resources["GuardFunction"].Properties["Events"].(map[string]any)
	out := map[string]any{}
	for name, ev := range events {
		ev, _ := ev.(map[string]any)
		if ev["Type"] != "EventBridgeRule" {
			continue
		}
		props, _ := ev["Properties"].(map[string]any)
		out[name] = props["Pattern"]
	}
	if len(out) != len(ruleGroups) {
		t.Fatalf("template has rules %v, want %d", out, len(ruleGroups))
	}
	return out
}

func TestSampleEventsThroughMotoEventBridge(t *testing.T) {
	b := newBus(t, moto(t))
	patterns := map[string]*eventpattern.Pattern{}
	for name, p := range templatePatterns(t) {
		b.addRule(name, p)
		compiled, err := eventpattern.Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		patterns[name] = compiled
	}

	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "index.json"))
	if err != nil {
		t.Fatalf("the sample events' index: %v", err)
	}
	var index map[string]struct {
		Kind        string  `json:"kind"`
		MatchesRule *string `json:"matchesRule"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(index))
	for name := range index {
		names = append(names, name)
	}
	sort.Strings(names)
	sent := 0
	for _, name := range names {
		s := index[name]
		t.Run(name, func(t *testing.T) {
			b.t = t
			data, err := os.ReadFile(filepath.Join("..", "..", "events", name))
			if err != nil {
				t.Fatal(err)
			}
			var event map[string]any
			if err := json.Unmarshal(data, &event); err != nil {
				t.Fatal(err)
			}
			if event["detail-type"] == nil || event["source"] == nil {
				t.Skipf("%s (%s) is a direct invocation payload, not an EventBridge event", name, s.Kind)
			}
			sent++
			motoGot := groups(b.put(event))

			var goRules []string
			for rule, p := range patterns {
				ok, err := p.Match(data)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					goRules = append(goRules, rule)
				}
			}
			goGot := groups(goRules)
			want := ""
			if s.MatchesRule != nil && *s.MatchesRule != "schedule" {
				want = *s.MatchesRule
			}
			if motoGot != goGot {
				t.Errorf("moto matched %q, the Go matcher %q", motoGot, goGot)
			}
			if motoGot != want {
				t.Errorf("moto matched %q, events/index.json says %q", motoGot, want)
			}
		})
	}
	b.t = t
	if sent == 0 {
		t.Error("no sample was an EventBridge event: nothing was checked")
	}
}

// The matcher's own operators, checked against moto on a few events: the
// template tests rely on them behaving as EventBridge does.
func TestMatcherAgreesWithMoto(t *testing.T) {
	b := newBus(t, moto(t))
	patterns := []string{
		`{"detail":{"name":["alpha"]}}`,
		`{"detail":{"name":["Alpha"]}}`,
		`{"detail":{"name":[{"prefix":"al"}]}}`,
		`{"detail":{"name":[{"suffix":"pha"}]}}`,
		`{"detail":{"name":[{"anything-but":"alpha"}]}}`,
		`{"detail":{"name":[{"anything-but":["beta","gamma"]}]}}`,
		`{"detail":{"name":[{"anything-but":{"prefix":"al"}}]}}`,
		`{"detail":{"name":[{"equals-ignore-case":"ALPHA"}]}}`,
		`{"detail":{"missing":[{"exists":false}]}}`,
		`{"detail":{"name":[{"exists":true}]}}`,
		`{"detail":{"missing":[{"exists":true}]}}`,
		`{"detail":{"missing":[{"anything-but":"x"}]}}`,
		`{"detail":{"tags":["blue"]}}`,
		`{"detail":{"n":[5]}}`,
		`{"detail":{"nested":{"id":[{"suffix":":servicesetting/x"}]}}}`,
		`{"detail":{"nested":{"id":["/x"]}}}`,
		`{"source":["dhmc.conformance"],"detail":{"name":["beta"]}}`,
	}
	events := []map[string]any{
		{"source": "dhmc.conformance", "detail-type": "t", "detail": map[string]any{
			"name": "alpha", "tags": []any{"red", "blue"}, "n": 5, "nested": map[string]any{"id": "arn:aws:ssm:eu-west-1:1:servicesetting/x"}}},
		{"source": "dhmc.conformance", "detail-type": "t", "detail": map[string]any{
			"name": "beta", "tags": []any{"green"}, "n": 6, "nested": map[string]any{"id": "/x"}, "missing": "here"}},
		{"source": "dhmc.conformance", "detail-type": "t", "detail": map[string]any{
			"name": "ALPHA", "tags": "blue"}},
	}
	compiled := map[string]*eventpattern.Pattern{}
	byRule := map[string]string{}
	for i, p := range patterns {
		rule := fmt.Sprintf("case-%02d", i)
		byRule[rule] = p
		var v any
		if err := json.Unmarshal([]byte(p), &v); err != nil {
			t.Fatal(err)
		}
		b.addRule(rule, v)
		compiled[rule] = eventpattern.MustParse(p)
	}
	for i, ev := range events {
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		reached := b.put(ev)
		for rule, p := range compiled {
			goOK, err := p.Match(data)
			if err != nil {
				t.Fatal(err)
			}
			if motoOK := slices.Contains(reached, rule); motoOK != goOK {
				t.Errorf("event %d, pattern %s: moto %v, Go matcher %v", i, byRule[rule], motoOK, goOK)
			}
		}
	}
}
