package dhmc

import "testing"

func TestSamePolicy(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"identical", goodTrust, goodTrust, true},
		{"white space", goodTrust, "{ \"Version\" : \"2012-10-17\",\n \"Statement\" : [ {\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ssm.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"} ] }", true},
		{"statement object instead of array", goodTrust,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}}`, true},
		{"one-element arrays instead of strings", goodTrust,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}`, true},
		{"version omitted", goodTrust,
			`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, true},
		{"old version", goodTrust,
			`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, true},
		{"sid ignored, action case folded", goodTrust,
			`{"Version":"2012-10-17","Statement":[{"Sid":"SSM","Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"STS:assumerole"}]}`, true},
		{"statement order",
			`{"Statement":[{"Effect":"Allow","Principal":{"Service":"a"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":"*","Action":"sts:TagSession"}]}`,
			`{"Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:TagSession"},{"Effect":"Allow","Principal":{"Service":"a"},"Action":"sts:AssumeRole"}]}`, true},
		{"value order",
			`{"Statement":[{"Effect":"Allow","Principal":{"Service":["a","b"]},"Action":["x:A","x:B"]}]}`,
			`{"Statement":[{"Effect":"Allow","Principal":{"Service":["b","a"]},"Action":["x:B","x:A"]}]}`, true},
		{"condition values", `{"Statement":[{"Effect":"Allow","Action":"x:A","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
			`{"Statement":[{"Effect":"Allow","Action":"x:A","Condition":{"Bool":{"AWS:securetransport":[true]}}}]}`, true},
		{"extra service principal", goodTrust, looseTrust, false},
		{"another service", goodTrust,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, false},
		{"extra statement", goodTrust,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}]}`, false},
		{"extra condition", goodTrust,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`, false},
		{"deny instead of allow", goodTrust,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, false},
		{"version matters with policy variables",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}"}]}`,
			`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}"}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SamePolicy(tt.a, tt.b)
			if err != nil {
				t.Fatalf("SamePolicy: %v", err)
			}
			if got != tt.want {
				t.Errorf("SamePolicy = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSamePolicyRejectsWhatIsNotAPolicy(t *testing.T) {
	for _, doc := range []string{
		"",
		"not json",
		"%7B%22Version%22%3A%222012-10-17%22%7D", // still URL-encoded
		`{"Version":"2012-10-17"}`,
		`{"Statement":[{"Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		`{"Statement":[{"Effect":"Maybe","Action":"sts:AssumeRole"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":{"a":1}}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"ssm.amazonaws.com","Action":"sts:AssumeRole"}]}`,
		`{"Statement":[{"Effect":"Allow","Actions":"sts:AssumeRole"}]}`,
	} {
		if _, err := SamePolicy(doc, goodTrust); err == nil {
			t.Errorf("SamePolicy(%q): want an error", doc)
		}
	}
}
