package securityhub

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// recorder answers as Security Hub does and keeps each request's method,
// path and decoded body.
type recorder struct {
	mu       sync.Mutex
	requests []string
	bodies   []any
	deny     bool
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	var body any
	_ = json.Unmarshal(b, &body)
	r.mu.Lock()
	r.requests = append(r.requests, req.Method+" "+req.URL.Path)
	r.bodies = append(r.bodies, body)
	deny := r.deny
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if req.Header.Get("Authorization") == "" {
		w.WriteHeader(403)
		return
	}
	if deny {
		w.Header().Set("X-Amzn-ErrorType", "InvalidAccessException")
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"Code":"InvalidAccessException","Message":"Account 111122223333 is not subscribed to AWS Security Hub"}`))
		return
	}
	if req.URL.Path == "/findings/import" {
		_, _ = w.Write([]byte(`{"FailedCount":1,"SuccessCount":2,"FailedFindings":[{"Id":"x","ErrorCode":"InvalidInput","ErrorMessage":"bad"}]}`))
		return
	}
	_, _ = w.Write([]byte(`{"ProcessedFindings":[{"Id":"a","ProductArn":"p"}],"UnprocessedFindings":[{"FindingIdentifier":{"Id":"b","ProductArn":"p"},"ErrorCode":"FindingNotFound","ErrorMessage":"Finding Not Found"}]}`))
}

// TestClientSendsWhatTheSDKSends: the small client's requests are the SDK
// client's, byte for byte once decoded, and it reads the answers and the
// not-enabled error the same way.
func TestClientSendsWhatTheSDKSends(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), BaseEndpoint: aws.String(srv.URL)}
	sdk, small := securityhub.NewFromConfig(cfg), NewClient(cfg)

	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	plan := Decide(Observe(report(result("eu-west-1", dhmc.KindSettingDisabled, dhmc.OutcomeBlocked)), sev), Memory{}, target, now)
	var results []Result
	for _, api := range []API{sdk, small} {
		res, err := Send(t.Context(), api, plan)
		if err == nil {
			t.Error("a refused finding returned no error")
		}
		results = append(results, res)
	}
	if len(rec.requests) != 4 || rec.requests[0] != rec.requests[2] || rec.requests[1] != rec.requests[3] {
		t.Fatalf("requests %v", rec.requests)
	}
	if rec.requests[0] != "POST /findings/import" || rec.requests[1] != "PATCH /findings/batchupdate" {
		t.Errorf("routes %v", rec.requests[:2])
	}
	for i := range 2 {
		if !reflect.DeepEqual(rec.bodies[i], rec.bodies[i+2]) {
			a, _ := json.Marshal(rec.bodies[i])
			b, _ := json.Marshal(rec.bodies[i+2])
			t.Errorf("request %d differs:\nSDK:   %s\nsmall: %s", i, a, b)
		}
	}
	if !reflect.DeepEqual(results[0], results[1]) || !reflect.DeepEqual(results[1].FailedImports, []string{"x"}) || !reflect.DeepEqual(results[1].FailedResolves, []string{"b"}) {
		t.Errorf("results differ: SDK %+v, small %+v", results[0], results[1])
	}

	rec.deny = true
	for _, api := range []API{sdk, small} {
		res, err := Send(t.Context(), api, plan)
		var ia *types.InvalidAccessException
		if !res.NotEnabled || err == nil {
			t.Errorf("%T: not-enabled not recognised: %+v %v %v", api, res, err, ia)
		}
	}
}
