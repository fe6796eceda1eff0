package dhmc

import (
	"strings"
	"testing"
)

func ssmWith(cond string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole","Condition":` + cond + `}]}`
}

func TestCheckTrust(t *testing.T) {
	org := func(d *Desired) { d.Trust.OrganizationID = "o-a1b2c3d4e5" }
	tests := []struct {
		name         string
		desired      func(*Desired)
		doc          string
		drift, unrec int
		narrowed     bool
	}{
		{name: "plain SSM trust", doc: goodTrust},
		{name: "source account of this account narrows", doc: ssmWith(`{"StringEquals":{"aws:SourceAccount":"123456789012"}}`), narrowed: true},
		{name: "condition key case does not matter", doc: ssmWith(`{"StringEquals":{"AWS:sourceaccount":["123456789012"]}}`), narrowed: true},
		{name: "source ARN of this account narrows", doc: ssmWith(`{"ArnLike":{"aws:SourceArn":"arn:aws:ssm:*:123456789012:*"}}`), narrowed: true},
		{name: "IfExists operators narrow too", doc: ssmWith(`{"StringEqualsIfExists":{"aws:SourceAccount":"123456789012"}}`), narrowed: true},
		{name: "org ID of the configured organisation narrows", desired: org, doc: ssmWith(`{"StringEquals":{"aws:SourceOrgID":"o-a1b2c3d4e5"}}`), narrowed: true},
		{name: "org paths in the configured organisation narrow", desired: org, doc: ssmWith(`{"ForAnyValue:StringLike":{"aws:SourceOrgPaths":"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}`), narrowed: true},
		{name: "org ID without a configured organisation cannot be verified", doc: ssmWith(`{"StringEquals":{"aws:SourceOrgID":"o-a1b2c3d4e5"}}`), unrec: 1},
		{name: "another account breaks DHMC", doc: ssmWith(`{"StringEquals":{"aws:SourceAccount":"111122223333"}}`), drift: 1},
		{name: "another account beside ours is drift", doc: ssmWith(`{"StringEquals":{"aws:SourceAccount":["123456789012","111122223333"]}}`), drift: 1, narrowed: true},
		{name: "source ARN of another account is drift", doc: ssmWith(`{"ArnLike":{"aws:SourceArn":"arn:aws:ssm:*:111122223333:*"}}`), drift: 1},
		{name: "another organisation is drift", desired: org, doc: ssmWith(`{"StringEquals":{"aws:SourceOrgID":"o-zzzzzzzzzz"}}`), drift: 1},
		{name: "a wildcard account narrows nothing and is reported", doc: ssmWith(`{"StringLike":{"aws:SourceAccount":"*"}}`), unrec: 1},
		{name: "an unknown key is reported", doc: ssmWith(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`), unrec: 1},
		{name: "a negated operator is reported", doc: ssmWith(`{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}`), unrec: 1},
		{name: "an extra service is drift", doc: looseTrust, drift: 1},
		{name: "everyone is drift", doc: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, drift: 2},
		{name: "an account principal is drift", doc: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com","AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`, drift: 1},
		{name: "another action is drift", doc: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`, drift: 1},
		{name: "no SSM statement is drift", doc: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, drift: 2},
		{name: "a Deny is reported", doc: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`, unrec: 1},
		{name: "required condition present", desired: func(d *Desired) { d.Trust.RequireCondition = true }, doc: ssmWith(`{"StringEquals":{"aws:SourceAccount":"123456789012"}}`), narrowed: true},
		{name: "required condition missing", desired: func(d *Desired) { d.Trust.RequireCondition = true }, doc: goodTrust, drift: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDesired()
			if tt.desired != nil {
				tt.desired(&d)
			}
			v, err := CheckTrust(tt.doc, d)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Drift) != tt.drift || len(v.Unrecognised) != tt.unrec || v.Narrowed != tt.narrowed {
				t.Errorf("drift %q, unrecognised %q, narrowed %t; want %d, %d, %t", v.Drift, v.Unrecognised, v.Narrowed, tt.drift, tt.unrec, tt.narrowed)
			}
			if (v.Repaired != "") != (tt.drift > 0) {
				t.Errorf("repaired %q with %d drift", v.Repaired, tt.drift)
			}
			if v.Repaired == "" {
				return
			}
			// The repair itself must be compliant: nothing to repair twice.
			again, err := CheckTrust(v.Repaired, d)
			if err != nil || len(again.Drift) > 0 {
				t.Errorf("repaired document %s is not compliant: %v %q", v.Repaired, err, again.Drift)
			}
		})
	}
}

func TestCheckTrustRepairKeepsNarrowingConditions(t *testing.T) {
	doc := `{"Statement":[{"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole",
		"Condition":{"StringEquals":{"aws:SourceAccount":["123456789012","111122223333"]},"Bool":{"aws:SecureTransport":"true"}}}]}`
	v, err := CheckTrust(doc, testDesired())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"aws:SourceAccount":["123456789012"]`, `"aws:SecureTransport":["true"]`, `"Service":"ssm.amazonaws.com"`} {
		if !strings.Contains(v.Repaired, want) {
			t.Errorf("repaired %s lacks %s", v.Repaired, want)
		}
	}
	for _, gone := range []string{"111122223333", "ec2.amazonaws.com"} {
		if strings.Contains(v.Repaired, gone) {
			t.Errorf("repaired %s still has %s", v.Repaired, gone)
		}
	}
}

func TestCheckTrustRepairAddsTheRequiredCondition(t *testing.T) {
	d := testDesired()
	d.Trust.RequireCondition = true
	v, err := CheckTrust(looseTrust, d)
	if err != nil {
		t.Fatal(err)
	}
	if v.Repaired != d.TrustPolicy() || !strings.Contains(v.Repaired, `"aws:SourceAccount":"123456789012"`) {
		t.Errorf("repaired %s, want %s", v.Repaired, d.TrustPolicy())
	}
}

// FuzzCheckTrust: any document is judged without panicking, and whatever
// CheckTrust repairs it repairs into a compliant trust policy.
func FuzzCheckTrust(f *testing.F) {
	for _, doc := range []string{goodTrust, looseTrust, ssmWith(`{"StringEquals":{"aws:SourceAccount":"111122223333"}}`),
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*"}]}`, `{"Statement":{}}`, `[]`} {
		f.Add(doc, false)
	}
	f.Fuzz(func(t *testing.T, doc string, require bool) {
		d := testDesired()
		d.Trust.RequireCondition = require
		v, err := CheckTrust(doc, d)
		if err != nil || v.Repaired == "" {
			return
		}
		again, err := CheckTrust(v.Repaired, d)
		if err != nil || len(again.Drift) > 0 {
			t.Fatalf("repair of %s is %s, which is not compliant: %v %q", doc, v.Repaired, err, again.Drift)
		}
	})
}
