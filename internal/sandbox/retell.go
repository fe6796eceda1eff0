package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Retell turns a sample CloudTrail event into the record of a change the
// sandbox's user really made at at with the tool userAgent ("" for the AWS
// CLI): the caller is alice (UserARN), the time is when she made it, and the
// event has an ID of its own. So the alert for a change names one actor and
// one time, whichever source it takes them from.
func Retell(raw []byte, at time.Time, userAgent string) ([]byte, error) {
	if userAgent == "" {
		userAgent = "aws-cli/2.22.4"
	}
	var event map[string]any
	if err := json.Unmarshal(raw, &event); err != nil {
		return nil, fmt.Errorf("reading the sample event: %w", err)
	}
	detail, ok := event["detail"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the sample event has no CloudTrail detail")
	}
	id := newEventID()
	event["id"] = id
	event["time"] = at.UTC().Format(time.RFC3339)
	detail["eventID"] = id
	detail["eventTime"] = at.UTC().Format(time.RFC3339)
	detail["sourceIPAddress"] = "203.0.113.10"
	detail["userAgent"] = userAgent
	detail["userIdentity"] = map[string]any{
		"type": "IAMUser", "principalId": "AIDAALICE0000EXAMPLE", "arn": UserARN,
		"accountId": Account, "accessKeyId": userKey, "userName": "alice",
	}
	return json.Marshal(event)
}

func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
