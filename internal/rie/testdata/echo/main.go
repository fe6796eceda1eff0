// Command echo is a minimal Lambda function for testing the rie package: it
// returns its payload and environment, or fails when asked to.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (any, error) {
		if string(raw) == `"fail"` {
			return nil, errors.New("asked to fail")
		}
		return map[string]any{"payload": raw, "marker": os.Getenv("ECHO_MARKER")}, nil
	})
}
