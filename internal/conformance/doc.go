// Package conformance checks dhmc-guard against moto, an AWS emulator nobody
// on the project wrote: the template's EventBridge patterns (and the project's
// own matcher, internal/eventpattern) against moto's EventBridge, the
// reconciler's IAM repairs against moto's IAM, and the run ledger's suite
// (internal/ledger/ledgertest) against moto's DynamoDB.
//
// The tests need a running moto_server and skip without one, saying so
// (make test shows the SKIP lines); `make conformance` starts it
// (with-moto.sh), sets DHMC_MOTO_ENDPOINT, and sets DHMC_MOTO_REQUIRED so
// that a missing moto fails there instead of skipping.
package conformance
