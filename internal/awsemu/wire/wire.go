// Package wire holds what the emulator's shared core and the services that
// have a package of their own (internal/awsemu/ddb) must agree on: request
// IDs and the partition of a Region. It imports nothing of the emulator, so
// every service package may use it without a cycle.
package wire

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// RequestID returns a fresh request ID in AWS's UUID form.
func RequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Partition maps a Region to its partition, as ARNs need.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	default:
		return "aws"
	}
}
