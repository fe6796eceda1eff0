// Package reconcile keeps the DHMC setting and role of one account at the
// desired state. It is level-based: a trigger only chooses the Scope (which
// Regions, whether the role), and every Run reads the real state again.
//
// One Run:
//
//  1. Regions: the Scope's, or every managed Region (the configured list, or
//     account:ListRegions for those enabled).
//  2. Observe: GetServiceSetting in each Region, in parallel with at most
//     Options.Parallelism at once; alongside, once per run because IAM is
//     global, GetRole, ListAttachedRolePolicies and ListRolePolicies side by side.
//     A compliant sweep of R Regions is R+3 reads.
//  3. Plan: dhmc.Plan, pure, turns desired and observed state into findings.
//  4. Apply, in enforce mode only: role actions one at a time (create, trust,
//     attach, detach, delete inline policies after keeping their documents,
//     boundary), then UpdateServiceSetting in every drifted Region in
//     parallel. SSM may not yet see a role IAM just changed, so that update
//     is retried with bounded exponential backoff. PendingUpdate is reported
//     as in progress, never fought. One Region failing never stops another.
//  5. Report: one dhmc.Report with every finding's outcome, per-Region
//     errors, durations and API calls counted by operation.
package reconcile
