package main_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// Issue 14, items 2, 3 and 5, under RIE with the real bootstrap. Each test
// logs its figure ("figure: ...") for the closing note.

const adminPolicy = "arn:aws:iam::aws:policy/AdministratorAccess"

// attachAdmin attaches AdministratorAccess to the DHMC role, as the user.
func attachAdmin(t *testing.T, emu *awsemu.Server) {
	t.Helper()
	r, ok := emu.Role(acct, sandbox.Desired().RoleName)
	if !ok {
		t.Fatal("no DHMC role")
	}
	r.AttachedPolicies = append(r.AttachedPolicies, adminPolicy)
	emu.PutRole(acct, r)
}

// allRegions starts the function with ManagedRegions=all and the setting
// as desired in every Region the account has enabled.
func allRegions(t *testing.T) (*sandbox.Sandbox, *awsemu.Server) {
	t.Helper()
	sb, emu := start(t, "DHMC_REGIONS=all")
	for _, r := range awsemu.DefaultRegions {
		emu.SetSetting(acct, r, sandbox.Desired().SettingValue())
	}
	return sb, emu
}

// TestRegionsThatCannotBeListedSilenceNothing: ManagedRegions=all,
// account:ListRegions denied (an SCP on account:*: AccessDeniedException,
// 403) or failing (InternalServerException, 500), and an IAM event for
// AdministratorAccess attached to the DHMC role. The role is repaired; the
// Regions fall back to the last good list (the ledger's, after a cold
// start) plus the event's; one high alert says the Regions could not be
// listed and why (with SNS down: the failure queue); the run is recorded;
// the invocation ends with errorType RegionsUnlistedError.
func TestRegionsThatCannotBeListedSilenceNothing(t *testing.T) {
	cases := []struct {
		name  string
		kind  awsemu.FaultKind
		code  string
		known bool // a sweep listed the Regions before a cold start
		sns   bool // SNS down
	}{
		{"denied, cold, nothing known", awsemu.FaultAccessDenied, "AccessDeniedException", false, false},
		{"denied, cold, the ledger's list", awsemu.FaultAccessDenied, "AccessDeniedException", true, false},
		{"failing, cold, the ledger's list", awsemu.FaultServerError, "InternalServerException", true, false},
		{"denied, SNS down", awsemu.FaultAccessDenied, "AccessDeniedException", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sb, emu := allRegions(t)
			if tc.known {
				if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
					t.Fatalf("clean sweep: %s %s", res.ErrorType, res.ErrorMessage)
				}
				// A new execution environment: nothing warm is left.
				sb.Close()
				next, err := sandbox.Start(t.Context(), emu, sandboxOptions("DHMC_REGIONS=all"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(next.Close)
				sb = next
			}
			f := awsemu.Fault{Op: "account:ListRegions", Kind: tc.kind}
			if tc.kind == awsemu.FaultAccessDenied {
				// An SCP denying account:*, worded as AWS does.
				f.Message = awsemu.SCPDenied("arn:aws:sts::"+acct+":assumed-role/dhmc-guard-GuardFunctionRole-EXAMPLE/dhmc-guard", "account:ListRegions")
			}
			emu.Inject(f)
			if tc.sns {
				emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultServerError})
			}
			attachAdmin(t, emu)
			emu.SetSetting(acct, "ap-south-1", dhmc.SettingDisabled) // only a known list reaches it
			runsBefore := ledgerRuns(emu)

			res, took := invokeTimed(t, sb, freshEvent(t, "iam-attach-role-policy-admin.json", nil))

			role, _ := emu.Role(acct, sandbox.Desired().RoleName)
			msgs := emu.Messages()
			queued := failureRecords(t, emu)
			told, severity := "", ""
			for _, m := range msgs {
				told += m.Subject + "\n" + m.Body
				severity = m.Attributes["severity"]
			}
			for _, r := range queued {
				raw, _ := json.Marshal(r)
				told += string(raw)
			}
			repairedSouth := emu.Setting(acct, "ap-south-1").Value == sandbox.Desired().SettingValue()
			t.Logf("figure: ListRegions %s (%s) -> errorType %s in %s; admin still attached %v; ap-south-1 repaired %v; %d messages (severity %q, subject %q), %d failure records, %d runs recorded",
				tc.code, tc.name, res.ErrorType, took.Round(time.Millisecond), slices.Contains(role.AttachedPolicies, adminPolicy), repairedSouth,
				len(msgs), severity, subjects(msgs), len(queued), ledgerRuns(emu)-runsBefore)
			if res.ErrorType != "RegionsUnlistedError" || !strings.Contains(res.ErrorMessage, "Regions could not be listed") || !strings.Contains(res.ErrorMessage, tc.code) {
				t.Errorf("result %s: %s, want RegionsUnlistedError saying why", res.ErrorType, res.ErrorMessage)
			}
			if slices.Contains(role.AttachedPolicies, adminPolicy) {
				t.Error("AdministratorAccess is still attached: the failed listing stopped the repair")
			}
			if repairedSouth != tc.known {
				t.Errorf("ap-south-1 repaired %v, want %v (only the last good list names it)", repairedSouth, tc.known)
			}
			if tc.kind == awsemu.FaultAccessDenied && !strings.Contains(told, "explicit deny in a service control policy") {
				t.Errorf("on-call was not told the SCP's words:\n%s", told)
			}
			if !strings.Contains(told, "Regions could not be listed") || !strings.Contains(told, tc.code) || !strings.Contains(told, adminPolicy) {
				t.Errorf("on-call was not told the listing failed, why, and the repair:\n%s", told)
			}
			switch {
			case tc.sns && (len(queued) != 1 || len(msgs) != 0):
				t.Errorf("SNS down: %d messages, %d failure records; want the report in the failure queue", len(msgs), len(queued))
			case !tc.sns && (len(msgs) != 1 || severity != "high"):
				t.Errorf("messages %q, want one high alert", subjects(msgs))
			}
			if ledgerRuns(emu) == runsBefore {
				t.Error("the run was not recorded in the ledger")
			}
		})
	}
}

// sandboxOptions are start's options, for a restart on the same emulator.
func sandboxOptions(env ...string) sandbox.Options {
	return sandbox.Options{RIE: rieBin, Bootstrap: bootstrap, Env: env}
}

// ageLedger moves every alert window's times (the groups and their pending
// digests) back by d: the fake clock of a function that runs on real time.
func ageLedger(t *testing.T, sb *sandbox.Sandbox, emu *awsemu.Server, d time.Duration) {
	t.Helper()
	db := dynamodb.NewFromConfig(sb.UserConfig(sandbox.HomeRegion))
	for _, it := range sandbox.LedgerItems(emu) {
		var item map[string]map[string]any
		if err := json.Unmarshal([]byte(it), &item); err != nil {
			t.Fatal(err)
		}
		pk, _ := item["pk"]["S"].(string)
		sk, _ := item["sk"]["S"].(string)
		if !strings.HasPrefix(pk, "GROUP#") && !(pk == "OUTBOX" && strings.HasPrefix(sk, "D#")) {
			continue
		}
		names, values, sets := map[string]string{}, map[string]dbtypes.AttributeValue{}, []string{}
		for attr, v := range item {
			s, ok := v["S"].(string)
			if !ok || attr == "pk" || attr == "sk" {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, s)
			if err != nil || at.IsZero() || at.Year() < 2000 {
				continue
			}
			n := len(sets)
			key := "#a" + string(rune('a'+n))
			names[key] = attr
			values[":v"+string(rune('a'+n))] = &dbtypes.AttributeValueMemberS{Value: at.Add(-d).Format(time.RFC3339Nano)}
			sets = append(sets, key+" = :v"+string(rune('a'+n)))
		}
		if len(sets) == 0 {
			continue
		}
		if _, err := db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
			TableName: aws.String(sandbox.LedgerTable),
			Key: map[string]dbtypes.AttributeValue{
				"pk": &dbtypes.AttributeValueMemberS{Value: pk}, "sk": &dbtypes.AttributeValueMemberS{Value: sk},
			},
			UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}); err != nil {
			t.Fatalf("ageing %s %s: %v", pk, sk, err)
		}
	}
}

// TestAnUnreadableRoleIsAlertedEveryWindow: GetRole denied, three sweeps
// in each of four alert windows (the ledger aged an hour between windows).
// The unreadable role is its own group, high, in the normal window: told
// once per window, not once a day; every sweep fails with RepairError.
func TestAnUnreadableRoleIsAlertedEveryWindow(t *testing.T) {
	sb, emu := start(t)
	emu.Inject(awsemu.Fault{Op: "iam:GetRole", Kind: awsemu.FaultAccessDenied})
	const windows, sweeps = 4, 3
	var perWindow []int
	for w := range windows {
		if w > 0 {
			ageLedger(t, sb, emu, time.Hour+time.Minute)
		}
		before := len(emu.Messages())
		for s := range sweeps {
			res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json"))
			if res.ErrorType != "RepairError" || !strings.Contains(res.ErrorMessage, "AccessDenied") {
				t.Fatalf("window %d sweep %d: %s %s, want RepairError naming AccessDenied", w, s, res.ErrorType, res.ErrorMessage)
			}
		}
		perWindow = append(perWindow, len(emu.Messages())-before)
	}
	msgs := emu.Messages()
	t.Logf("figure: GetRole denied, %d sweeps in each of %d windows -> messages per window %v: %q", sweeps, windows, perWindow, subjects(msgs))
	for w, n := range perWindow {
		if n != 1 {
			t.Errorf("window %d: %d messages, want 1 (messages per window %v)", w, n, perWindow)
		}
	}
	// The first message says why; each later window's is the digest of
	// the group's repeats, naming it.
	for i, m := range msgs {
		names := strings.Contains(m.Body, "role role-unreadable")
		if i == 0 {
			names = strings.Contains(m.Body, "role") && strings.Contains(m.Body, "AccessDenied")
		}
		if m.Attributes["severity"] != "high" || !names {
			t.Errorf("message %q (%s) is not a high alert naming the unreadable role:\n%s", m.Subject, m.Attributes["severity"], m.Body)
		}
	}
	groups := 0
	for _, it := range sandbox.LedgerItems(emu) {
		if strings.Contains(it, `"pk":{"S":"GROUP#`) {
			groups++
			if !strings.Contains(it, `"kind":{"S":"role-unreadable"}`) {
				t.Errorf("group not of kind role-unreadable: %s", it)
			}
		}
	}
	if groups != 1 {
		t.Errorf("%d groups, want the one role-unreadable group", groups)
	}
}

// TestAFixBySomeoneElseBetweenReadAndWriteIsNoFailure: AdministratorAccess
// or an inline policy on the DHMC role; the user removes it just before
// the guard's own write (the emulator lands their change first), so IAM
// answers the guard NoSuchEntity. The outcome is done, "already in
// place"; no "repair FAILED", no function error; the role is compliant.
func TestAFixBySomeoneElseBetweenReadAndWriteIsNoFailure(t *testing.T) {
	d := sandbox.Desired()
	backdoor := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	cases := []struct {
		name, op, event string
		drift, fix      func(r *awsemu.Role)
		kind            dhmc.Kind
	}{
		{"detach", "iam:DetachRolePolicy", "iam-attach-role-policy-admin.json",
			func(r *awsemu.Role) { r.AttachedPolicies = append(r.AttachedPolicies, adminPolicy) },
			func(r *awsemu.Role) { r.AttachedPolicies = []string{d.ManagedPolicyARN()} },
			dhmc.KindUnexpectedManagedPolicy},
		{"delete inline", "iam:DeleteRolePolicy", "iam-put-role-policy.json",
			func(r *awsemu.Role) { r.InlinePolicies = map[string]string{"backdoor": backdoor} },
			func(r *awsemu.Role) { r.InlinePolicies = nil },
			dhmc.KindUnexpectedInlinePolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sb, emu := start(t)
			edit := func(f func(r *awsemu.Role)) {
				r, _ := emu.Role(acct, d.RoleName)
				f(&r)
				emu.PutRole(acct, r)
			}
			edit(tc.drift)
			emu.Inject(awsemu.Fault{Op: tc.op, Kind: awsemu.FaultCompetingWrite, Times: 1, Race: func() { edit(tc.fix) }})

			res, status, rep := invoke(t, sb, freshEvent(t, tc.event, nil))
			answered := ""
			for _, c := range emu.Calls() {
				if c.Caller == sandbox.FunctionCaller && c.Service+":"+c.Operation == tc.op {
					answered = c.ErrorCode
				}
			}
			msgs := emu.Messages()
			var x dhmc.Result
			if rep != nil {
				for _, r := range rep.Results {
					if r.Kind == tc.kind {
						x = r
					}
				}
			}
			t.Logf("figure: concurrent fix (%s): the guard's write answered %q -> errorType %q, status %q, outcome %q note %q; messages %q; drift after %v",
				tc.op, answered, res.ErrorType, status, x.Outcome, x.Note, subjects(msgs), driftIn(t, emu))
			if answered != "NoSuchEntity" {
				t.Errorf("the guard's %s answered %q, want IAM's NoSuchEntity: the fix did not land in between", tc.op, answered)
			}
			if err := res.Err(); err != nil {
				t.Fatalf("invocation failed: %v", err)
			}
			if x.Outcome != dhmc.OutcomeDone || !strings.HasPrefix(x.Note, "already in place") {
				t.Errorf("%s: outcome %q note %q, want done, already in place", tc.kind, x.Outcome, x.Note)
			}
			for _, m := range msgs {
				if strings.Contains(m.Subject, "FAILED") || m.Attributes["outcome"] == "failed" {
					t.Errorf("message %q (%s) pages a failure for a role that is compliant", m.Subject, m.Attributes["severity"])
				}
			}
			if drift := driftIn(t, emu); len(drift) != 0 {
				t.Errorf("drift after = %v, want none", drift)
			}
		})
	}
}
