// Command minimalfn is the smallest aws-lambda-go function: the yardstick
// bench-check measures the guard's INIT against, built with the same flags
// and run under the same RIE, so that the ratio says what the guard itself
// adds to a cold start on this machine.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return map[string]any{"ok": true}, nil
	})
}
