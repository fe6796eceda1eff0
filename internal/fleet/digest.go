package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// SNS limits: a message (body and attributes) of at most 256 KiB, a subject
// of fewer than 100 printable ASCII characters.
const (
	MaxBody    = 250 * 1024 // leaves room for the attributes
	MaxSubject = 99
)

// JSONMarker starts the report's JSON at the end of the digest.
const JSONMarker = "--- report (JSON) ---"

// digestCandidates is how many migration candidates the text lists; the
// rest are in the JSON report.
const digestCandidates = 25

// Digest is the weekly SNS message.
type Digest struct {
	Subject, Body string
	Attributes    map[string]string
}

// Compose writes the digest: a subject that fits a phone's notification, a
// plain-text body that reads on a phone (short lines, the numbers first,
// what to do), and the JSON report at the end when it fits SNS's limit.
func Compose(r *Report) Digest {
	t := r.Totals
	subject := fmt.Sprintf("DHMC fleet: %s of %s instances ready in %d Regions of %s",
		thousands(t.Ready), thousands(t.Running), len(r.Regions), r.AccountID)
	if r.Failed() {
		subject = "DHMC fleet (incomplete): " + strings.TrimPrefix(subject, "DHMC fleet: ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "DHMC fleet readiness, account %s, %s\n", r.AccountID, r.StartedAt)
	fmt.Fprintf(&b, "%d Regions, %s running instances, %s managed nodes.\n", len(r.Regions), thousands(t.Running), thousands(t.ManagedNodes))
	fmt.Fprintf(&b, "Ready for DHMC: %s (%s). Not ready: %s.\n", thousands(t.Ready), percent(t.Ready, t.Running), thousands(t.NotReady))

	if t.NotReady > 0 {
		b.WriteString("\nWhy not ready (an instance can have several reasons):\n")
		for _, why := range Reasons {
			if n := t.Reasons[why]; n > 0 {
				fmt.Fprintf(&b, "%7s  %s\n", thousands(n), why.Describe())
			}
		}
	}

	if hygiene := hygieneLines(t); hygiene != "" {
		b.WriteString("\nHygiene (DHMC still manages these; worth fixing):\n" + hygiene)
	}

	var off, unknown, failed []string
	for _, x := range r.Regions {
		switch x.DHMC.State {
		case DHMCOff:
			off = append(off, x.Region)
		case DHMCUnknown:
			unknown = append(unknown, x.Region)
		}
		if x.Error != "" {
			failed = append(failed, x.Region+": "+x.Error)
		}
	}
	if len(off) > 0 {
		fmt.Fprintf(&b, "\nDHMC setting OFF in: %s\n(nothing there is DHMC-managed; dhmc-guard turns it on where it manages the Region)\n", strings.Join(off, ", "))
	}
	if len(unknown) > 0 {
		fmt.Fprintf(&b, "\nDHMC setting unreadable in: %s\n", strings.Join(unknown, ", "))
	}
	if len(failed) > 0 {
		b.WriteString("\nNot read completely (counts there are partial):\n")
		for _, f := range failed {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}

	b.WriteString("\nPer Region (ready / running, top reasons):\n")
	for _, x := range r.Regions {
		fmt.Fprintf(&b, "%-15s %s / %s%s\n", x.Region, thousands(x.Ready), thousands(x.Running), topReasons(x, 3))
	}

	if len(r.MigrationCandidates) > 0 {
		b.WriteString("\nMigration candidates: these instance profiles still grant ssm:UpdateInstanceInformation,\n" +
			"so their instances use the profile, not DHMC. Drop the SSM policies from them:\n")
		for i, c := range r.MigrationCandidates {
			if i == digestCandidates {
				fmt.Fprintf(&b, "... and %d more profiles (in the JSON report)\n", len(r.MigrationCandidates)-i)
				break
			}
			fmt.Fprintf(&b, "- %s (role %s): %s in %s\n  via %s\n", c.Name, strings.Join(c.Roles, ", "),
				instancesWord(c.Count), strings.Join(c.Regions, ", "), strings.Join(c.GrantedBy, "; "))
		}
	}
	if len(r.UnreadableProfiles) > 0 {
		b.WriteString("\nInstance profiles that could not be read (their instances are counted as not ready):\n")
		for i, c := range r.UnreadableProfiles {
			if i == digestCandidates {
				fmt.Fprintf(&b, "... and %d more (in the JSON report)\n", len(r.UnreadableProfiles)-i)
				break
			}
			fmt.Fprintf(&b, "- %s: %s: %s\n", c.Name, instancesWord(c.Count), c.Error)
		}
	}
	if t.NotReady > 0 {
		b.WriteString("\nWhat to do: upgrade SSM Agent to " + MinAgentVersion + " or later; enable the metadata\n" +
			"endpoint where it is off; install or start the agent where instances are not registered\n" +
			"or not pinging. Instance IDs per reason are in the JSON report.\n")
	}
	if t.Hygiene[ReasonIMDSv1] > 0 {
		b.WriteString("\nTo require IMDSv2: aws ec2 modify-instance-metadata-options --http-tokens required\n" +
			"(test the applications first: anything still using IMDSv1 stops working).\n")
	}
	text := b.String()

	var body string
	if raw, err := json.Marshal(r); err == nil && len(text)+len(raw)+len(JSONMarker)+4 <= MaxBody {
		body = text + "\n" + JSONMarker + "\n" + string(raw) + "\n"
	} else {
		body = truncateBytes(text, MaxBody-120) + "\n(the JSON report is too large for SNS: invoke the function with {\"action\":\"report\"} to get it)\n"
	}
	severity := "low"
	if r.Failed() {
		severity = "medium"
	}
	return Digest{
		Subject: cleanSubject(subject),
		Body:    body,
		Attributes: map[string]string{
			"kind":     ReportKind,
			"severity": severity,
			"account":  r.AccountID,
		},
	}
}

func hygieneLines(t Totals) string {
	var b strings.Builder
	for _, h := range Hygiene {
		if n := t.Hygiene[h]; n > 0 {
			fmt.Fprintf(&b, "%7s  %s\n", thousands(n), h.Describe())
		}
	}
	return b.String()
}

func topReasons(x RegionReport, n int) string {
	var parts []string
	type kv struct {
		why   Reason
		count int
	}
	var list []kv
	for _, why := range Reasons {
		if s := x.Reasons[why]; s != nil && s.Count > 0 {
			list = append(list, kv{why, s.Count})
		}
	}
	// Stable order by count, Reasons order among equals.
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].count > list[j-1].count; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	for i, e := range list {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s", e.why, thousands(e.count)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "  " + strings.Join(parts, ", ")
}

// cleanSubject keeps a subject SNS accepts: printable ASCII, no line
// breaks, fewer than 100 characters.
func cleanSubject(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && unicode.IsPrint(r) {
			b.WriteRune(r)
		}
	}
	out := b.String()
	if len(out) > MaxSubject {
		out = out[:MaxSubject-3] + "..."
	}
	return out
}

func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

func instancesWord(n int) string {
	if n == 1 {
		return "1 instance"
	}
	return thousands(n) + " instances"
}

func percent(part, whole int) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", part*100/whole)
}

// Publisher is the part of the SNS client the digest needs.
type Publisher interface {
	Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Send publishes the digest.
func Send(ctx context.Context, p Publisher, topicARN string, d Digest) error {
	if p == nil || topicARN == "" {
		return errors.New("publishing the fleet digest: no SNS client or topic")
	}
	attrs := map[string]snstypes.MessageAttributeValue{}
	for k, v := range d.Attributes {
		if v != "" {
			attrs[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	if _, err := p.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topicARN), Subject: aws.String(d.Subject), Message: aws.String(d.Body), MessageAttributes: attrs,
	}); err != nil {
		return fmt.Errorf("publishing the fleet digest to %s: %w", topicARN, err)
	}
	return nil
}
