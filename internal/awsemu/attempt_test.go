package awsemu_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

// TestCallsKnowTheSDKsAttempt: a call the SDK retried is logged twice, the
// second as attempt 2, so a test can tell the calls the code made from the
// requests the SDK sent.
func TestCallsKnowTheSDKsAttempt(t *testing.T) {
	s := awsemu.StartTest(t)
	s.Inject(awsemu.Fault{Op: "sts:GetCallerIdentity", Kind: awsemu.FaultServerError, Times: 1})
	c := sts.NewFromConfig(cfg(s, "eu-west-1", "AKIDADMIN"))
	if _, err := c.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	var attempts []int
	for _, c := range s.Calls() {
		attempts = append(attempts, c.Attempt)
	}
	if len(attempts) != 2 || attempts[0] != 1 || attempts[1] != 2 {
		t.Errorf("attempts %v, want [1 2]", attempts)
	}
}
