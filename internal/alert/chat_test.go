package alert

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// chatSchemaProblems checks a decoded card against the documented custom
// notification schema (required fields, fixed values, types, no key the
// schema does not name) and our length limits.
func chatSchemaProblems(card map[string]any) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	allowed := func(where string, m map[string]any, keys ...string) {
		for k := range m {
			if !slices.Contains(keys, k) {
				bad("%s has %q, which the schema does not name", where, k)
			}
		}
	}
	str := func(where string, v any, required bool, max int) string {
		s, ok := v.(string)
		switch {
		case v == nil && !required:
			return ""
		case !ok:
			bad("%s = %v (%T), want a string", where, v, v)
		case max > 0 && utf8.RuneCountInString(s) > max:
			bad("%s is %d characters, over %d", where, utf8.RuneCountInString(s), max)
		}
		return s
	}
	strList := func(where string, v any, maxItems, maxEach int) {
		if v == nil {
			return
		}
		l, ok := v.([]any)
		if !ok {
			bad("%s = %v (%T), want a list of strings", where, v, v)
			return
		}
		if len(l) > maxItems {
			bad("%s has %d items, over %d", where, len(l), maxItems)
		}
		for i, e := range l {
			str(fmt.Sprintf("%s[%d]", where, i), e, true, maxEach)
		}
	}
	allowed("notification", card, "version", "source", "id", "content", "metadata")
	if got := str("version", card["version"], true, 0); got != ChatVersion {
		bad("version = %q, must be %q", got, ChatVersion)
	}
	if got := str("source", card["source"], true, 0); got != ChatSource {
		bad("source = %q, must be %q", got, ChatSource)
	}
	str("id", card["id"], false, 0)

	content, ok := card["content"].(map[string]any)
	if !ok {
		return append(problems, fmt.Sprintf("content = %v, want an object", card["content"]))
	}
	allowed("content", content, "textType", "title", "description", "nextSteps", "keywords")
	if got := str("content.textType", content["textType"], false, 0); got != "" && got != ChatMarkdown {
		bad("textType = %q: only %q is supported", got, ChatMarkdown)
	}
	str("content.title", content["title"], false, MaxChatTitle)
	if str("content.description", content["description"], true, MaxChatDescription) == "" {
		bad("content.description is empty")
	}
	strList("content.nextSteps", content["nextSteps"], MaxChatNextSteps, MaxChatStep)
	strList("content.keywords", content["keywords"], MaxChatKeywords, MaxChatKeyword)

	if card["metadata"] == nil {
		return problems
	}
	meta, ok := card["metadata"].(map[string]any)
	if !ok {
		return append(problems, fmt.Sprintf("metadata = %v, want an object", card["metadata"]))
	}
	allowed("metadata", meta, "threadId", "summary", "eventType", "relatedResources", "additionalContext")
	for _, k := range []string{"threadId", "summary", "eventType"} {
		str("metadata."+k, meta[k], false, 0)
	}
	strList("metadata.relatedResources", meta["relatedResources"], 100, 0)
	if ac := meta["additionalContext"]; ac != nil {
		m, ok := ac.(map[string]any)
		if !ok {
			return append(problems, fmt.Sprintf("additionalContext = %v, want an object of strings", ac))
		}
		for k, v := range m {
			str("metadata.additionalContext."+k, v, true, 0)
		}
	}
	return problems
}

func checkChatSchema(t *testing.T, card map[string]any) {
	t.Helper()
	for _, p := range chatSchemaProblems(card) {
		t.Error(p)
	}
}

// structure decodes m's published message structure.
func structure(t *testing.T, m Message) (text string, card map[string]any) {
	t.Helper()
	s, err := m.Structure()
	if err != nil {
		t.Fatal(err)
	}
	var protocols map[string]any
	if err := json.Unmarshal([]byte(s), &protocols); err != nil {
		t.Fatalf("message structure is not JSON: %v", err)
	}
	for k, v := range protocols {
		if _, ok := v.(string); !ok {
			t.Fatalf("protocol %s has a %T: each protocol's message must be a string", k, v)
		}
	}
	if !slices.Equal(sortedKeys(protocols), []string{"default", ProtocolChat}) {
		t.Errorf("protocols = %v, want default and %s", sortedKeys(protocols), ProtocolChat)
	}
	if err := json.Unmarshal([]byte(protocols[ProtocolChat].(string)), &card); err != nil {
		t.Fatalf("the %s message is not a JSON object: %v", ProtocolChat, err)
	}
	return protocols["default"].(string), card
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestChatCardFollowsTheDocumentedSchemaOverManyReports(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for range 2000 {
		m, ok := Compose(randomReport(rng))
		if !ok {
			continue
		}
		checked++
		text, card := structure(t, m)
		if text != m.Body {
			t.Fatal("default is not the plain-text body")
		}
		checkChatSchema(t, card)
		if t.Failed() {
			t.Fatalf("subject %q", m.Subject)
		}
	}
	if checked < 500 {
		t.Errorf("only %d reports made a message", checked)
	}
}

func TestChatSchemaCheckRejectsWhatTheSchemaForbids(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{"version": "1.0", "source": "custom",
			"content": map[string]any{"textType": "client-markdown", "description": "d", "nextSteps": []any{"a"}}}
	}
	for name, spoil := range map[string]func(map[string]any){
		"version 2":         func(c map[string]any) { c["version"] = "2.0" },
		"no source":         func(c map[string]any) { delete(c, "source") },
		"html text type":    func(c map[string]any) { c["content"].(map[string]any)["textType"] = "html" },
		"numbered step":     func(c map[string]any) { c["content"].(map[string]any)["nextSteps"] = []any{1} },
		"unknown key":       func(c map[string]any) { c["severity"] = "high" },
		"empty description": func(c map[string]any) { c["content"].(map[string]any)["description"] = "" },
		"long title":        func(c map[string]any) { c["content"].(map[string]any)["title"] = strings.Repeat("t", MaxChatTitle+1) },
	} {
		t.Run(name, func(t *testing.T) {
			card := good()
			if p := chatSchemaProblems(card); len(p) != 0 {
				t.Fatalf("the good card is refused: %v", p)
			}
			spoil(card)
			if len(chatSchemaProblems(card)) == 0 {
				t.Error("the schema check accepted it")
			}
		})
	}
}

func TestChatCardTellsAccountRegionsKindsWhoAndOutcome(t *testing.T) {
	r := report("enforce", roleResult(dhmc.OutcomeDone), settingResult("eu-west-1", dhmc.OutcomeFailed),
		settingResult("eu-central-1", dhmc.OutcomeDone))
	r.Cause = ctCause()
	m, _ := Compose(r)
	_, card := structure(t, m)
	content := card["content"].(map[string]any)
	desc := content["description"].(string)
	for _, want := range []string{"`123456789012`", "failed (enforce mode), severity high", "CloudTrail `DetachRolePolicy` in `us-east-1`",
		"`user alice`", "*Regions (2):* `eu-west-1`, `eu-central-1`", "setting-disabled ×2", "managed-policy-missing", "`eu-west-1` setting-disabled: FAILED"} {
		if !strings.Contains(desc, want) {
			t.Errorf("description lacks %q:\n%s", want, desc)
		}
	}
	if first, later := strings.Index(desc, "FAILED"), strings.Index(desc, "repaired"); first < 0 || later < first {
		t.Errorf("the failed repair is not listed first:\n%s", desc)
	}
	if title := content["title"].(string); !strings.HasPrefix(title, ":rotating_light: DHMC repair FAILED") {
		t.Errorf("title = %q", title)
	}
	if steps := content["nextSteps"].([]any); len(steps) == 0 || !strings.Contains(steps[0].(string), "errors") {
		t.Errorf("next steps = %v", steps)
	}
	meta := card["metadata"].(map[string]any)
	// One thread per problem: the failed repair's, where its resolution will come.
	if meta["threadId"] != "dhmc-guard-123456789012-eu-west-1-setting-disabled" || meta["summary"] != m.Subject {
		t.Errorf("metadata = %v", meta)
	}
	if card["id"] != "e3a9c1d2-0007" {
		t.Errorf("id = %v, want the CloudTrail event ID", card["id"])
	}
}

func TestChatCardOfAHugeReportStaysShortAndTheMessageFitsSNS(t *testing.T) {
	var results []dhmc.Result
	for i := range 3000 {
		x := settingResult(fmt.Sprintf("eu-west-%d", i), dhmc.OutcomeFailed)
		x.Error = strings.Repeat(`"é"`, 100) // quotes double under JSON escaping
		results = append(results, x)
	}
	m, _ := Compose(report("enforce", results...))
	s, err := m.Structure()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s) + len(m.Subject) + attributesSize(m.Attributes); n > MaxMessage {
		t.Errorf("published message is %d bytes, over %d", n, MaxMessage)
	}
	_, card := structure(t, m)
	checkChatSchema(t, card)
	if desc := card["content"].(map[string]any)["description"].(string); !strings.Contains(desc, "and 2992 more") || !strings.Contains(desc, "*Regions (3000):*") {
		t.Errorf("description does not say how many findings it left out:\n%s", desc)
	}
	if !strings.Contains(m.Body, "[report JSON truncated:") {
		t.Error("the body was not shortened for the structure")
	}
}

func TestSendPublishesTheChatCardAndThePlainTextThroughSNS(t *testing.T) {
	emu := awsemu.StartTest(t)
	topic := emu.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "dhmc-guard-alerts")
	client := sns.NewFromConfig(aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDALERT", "secret", ""),
		BaseEndpoint: aws.String(emu.URL()),
	})
	r := report("detect", settingResult("eu-west-1", dhmc.OutcomeSkipped))
	m, _ := Compose(r)
	if err := Send(t.Context(), client, topic, m); err != nil {
		t.Fatal(err)
	}
	msgs := emu.Messages()
	if len(msgs) != 1 {
		t.Fatalf("published %d messages", len(msgs))
	}
	got := msgs[0]
	if got.For("email") != m.Body || got.For("email-json") != m.Body {
		t.Errorf("e-mail subscribers do not get the plain text")
	}
	var card map[string]any
	if err := json.Unmarshal([]byte(got.For("https")), &card); err != nil {
		t.Fatalf("https subscribers get %q: %v", got.For("https"), err)
	}
	checkChatSchema(t, card)
	if got.Subject != m.Subject || got.Attributes[AttrSeverity] != SeverityMedium || got.Attributes[AttrAccount] != acct {
		t.Errorf("published %+v", got)
	}
}
