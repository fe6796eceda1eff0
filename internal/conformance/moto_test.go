package conformance_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// moto returns the moto_server endpoint, reset to an empty state, or skips
// the test when none is running.
func moto(t *testing.T) string {
	t.Helper()
	endpoint := os.Getenv("DHMC_MOTO_ENDPOINT")
	if endpoint == "" {
		t.Skip("DHMC_MOTO_ENDPOINT is not set: run `make conformance` to check against moto_server")
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint+"/moto-api/reset", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("resetting moto at %s: %v", endpoint, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resetting moto: HTTP %d", resp.StatusCode)
	}
	return endpoint
}

func awsConfig(region string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDCONFORMANCE", "secret", ""),
		RetryMaxAttempts: 2,
	}
}
