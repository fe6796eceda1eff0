package infra_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// scannedTemplates are the files `make checkov` scans (infra/*.yaml and
// infra/org/*.yaml).
var scannedTemplates = []string{mainTemplate, forwarderTemplate, centralTemplate, stacksetTemplate}

type checkovSkip struct{ file, resource, id, comment string }

// checkovSkips reads every resource's Metadata.checkov.skip, as checkov
// does, failing on an entry it could not read.
func checkovSkips(t *testing.T) []checkovSkip {
	t.Helper()
	var out []checkovSkip
	for _, file := range scannedTemplates {
		res, _ := load(t, file).Raw("Resources").(map[string]any)
		for name, r := range res {
			meta, _ := r.(map[string]any)["Metadata"].(map[string]any)
			ck, ok := meta["checkov"]
			if !ok {
				continue
			}
			skips, _ := ck.(map[string]any)["skip"].([]any)
			if len(skips) == 0 {
				t.Errorf("%s %s: Metadata.checkov without a skip list", file, name)
			}
			for _, s := range skips {
				m, _ := s.(map[string]any)
				out = append(out, checkovSkip{file, name, str(m["id"]), str(m["comment"])})
			}
		}
	}
	return out
}

// A skipped check says why, next to the resource, and the README lists it:
// a security reviewer never meets a silent exception.
func TestEveryCheckovSkipHasAReasonAndIsListedInTheReadme(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // check ID -> its README table row
	for _, line := range strings.Split(string(readme), "\n") {
		if m := regexp.MustCompile("^\\| `(CKV2?_AWS_[0-9]+)`").FindStringSubmatch(line); m != nil {
			rows[m[1]] = line
		}
	}
	skips := checkovSkips(t)
	if len(skips) == 0 {
		t.Fatal("no checkov skip found: the test checked nothing")
	}
	id := regexp.MustCompile(`^CKV2?_AWS_[0-9]+$`)
	for _, s := range skips {
		if !id.MatchString(s.id) {
			t.Errorf("%s %s: skip id %q is not a checkov AWS check", s.file, s.resource, s.id)
		}
		if len(strings.Fields(s.comment)) < 8 {
			t.Errorf("%s %s: skip of %s gives no real reason (%q)", s.file, s.resource, s.id, s.comment)
		}
		if row, ok := rows[s.id]; !ok || !strings.Contains(row, "`"+s.resource+"`") {
			t.Errorf("%s %s skips %s: the README's scanner table has no row naming both", s.file, s.resource, s.id)
		}
	}
}
