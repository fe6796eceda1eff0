package conformance_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// skipReason is why every test here skips without moto.
const skipReason = "DHMC_MOTO_ENDPOINT not set: run make conformance"

// TestMain says once, on stderr, that the package checked nothing when no
// moto_server is running (go test prints "ok" for a package whose tests all
// skip), and fails when DHMC_MOTO_REQUIRED is set, as make conformance sets
// it, so that a missing moto can never pass as a skip there.
func TestMain(m *testing.M) {
	if os.Getenv("DHMC_MOTO_ENDPOINT") == "" {
		if os.Getenv("DHMC_MOTO_REQUIRED") != "" {
			fmt.Fprintln(os.Stderr, "FAIL internal/conformance: DHMC_MOTO_REQUIRED is set but DHMC_MOTO_ENDPOINT is not: moto_server did not start")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "SKIP internal/conformance: every test skips ("+skipReason+")")
	}
	os.Exit(m.Run())
}

// requireMoto skips the test when no moto_server is running.
func requireMoto(t *testing.T) string {
	t.Helper()
	endpoint := os.Getenv("DHMC_MOTO_ENDPOINT")
	if endpoint == "" {
		t.Skip(skipReason)
	}
	return endpoint
}

// moto returns the moto_server endpoint, reset to an empty state, or skips
// the test when none is running.
func moto(t *testing.T) string {
	t.Helper()
	endpoint := requireMoto(t)
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
