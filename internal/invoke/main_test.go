package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// One build for every replay here.
var rieBin, bootstrap, eventsDir string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		root, _ := filepath.Abs("../..")
		var err error
		rieBin, bootstrap, err = rie.BuildWith(context.Background(), root, rie.SharedDir(root, "./functions/guard", false),
			"./functions/guard", rie.BuildOptions{Progress: os.Stderr})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		eventsDir = filepath.Join(root, "events")
		return m.Run()
	}())
}

// wantStatus is the result each kind of sample gives against the drifted
// account: an event invocation's status, or "report" for a manual one.
var wantStatus = map[string]string{
	"cloudtrail-ssm": "reconciled",
	"cloudtrail-iam": "reconciled",
	"schedule":       "reconciled",
	"scheduler":      "reconciled",
	"manual":         "report",
	"ignore":         "ignored",
	"own-repair":     "ignored",
	"denied":         "denied",
}

func TestReplayEverySampleEventAgainstTheDriftedAccount(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(eventsDir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "index.json" })
	if len(files) != len(index) {
		t.Errorf("events/ has %d sample files, index.json lists %d", len(files), len(index))
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			entry, ok := index[name]
			if !ok {
				t.Fatalf("%s is not in index.json", name)
			}
			want, ok := wantStatus[entry.Kind]
			if !ok {
				t.Fatalf("index kind %q has no expected status here", entry.Kind)
			}
			var out bytes.Buffer
			got, err := run(t.Context(), config{Event: file, State: sandbox.StateDrifted, RIE: rieBin, Bootstrap: bootstrap}, &out)
			if err != nil {
				t.Fatalf("replay: %v\n%s", err, out.String())
			}
			if got.Status != want {
				t.Errorf("status %q, want %q\n%s", got.Status, want, out.String())
			}
			if len(got.Calls) == 0 && want != "ignored" {
				t.Errorf("no AWS calls recorded\n%s", out.String())
			}
			text := out.String()
			for _, section := range []string{"== Result: ", "== Alerts published", "== AWS calls the function made"} {
				if !strings.Contains(text, section) {
					t.Errorf("output lacks %q\n%s", section, text)
				}
			}
			// Against a drifted account everything but an ignored event alerts.
			if wantAlert := want != "ignored"; wantAlert != (len(got.Messages) == 1) {
				t.Errorf("%d alerts, want one: %t", len(got.Messages), wantAlert)
			}
			for _, m := range got.Messages {
				if !strings.Contains(text, "Subject:    "+m.Subject) {
					t.Errorf("output does not show the alert's subject %q", m.Subject)
				}
			}
			if strings.Contains(text, `"report": {`) != (want != "report" && want != "ignored") {
				t.Errorf("result shape for %s is not the expected one:\n%s", want, text)
			}
		})
	}
}

func TestReplayInTheCompliantStateChangesNothing(t *testing.T) {
	var out bytes.Buffer
	got, err := run(t.Context(), config{Event: filepath.Join(eventsDir, "schedule.json"), State: sandbox.StateCompliant, RIE: rieBin, Bootstrap: bootstrap}, &out)
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if got.Status != "reconciled" || len(got.Messages) != 0 || countWrites(got.Calls) != 0 {
		t.Errorf("status %q, %d alerts, %d writes; want reconciled, 0, 0\n%s", got.Status, len(got.Messages), countWrites(got.Calls), out.String())
	}
}

func TestReplayShowsAFunctionError(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"action":"destroy"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	got, err := run(t.Context(), config{Event: bad, State: sandbox.StateDrifted, RIE: rieBin, Bootstrap: bootstrap}, &out)
	if err == nil || got.Err == nil {
		t.Fatalf("an unknown action replayed without error:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "errorType:    InputError") || countWrites(got.Calls) != 0 {
		t.Errorf("want the InputError shown and no writes:\n%s", out.String())
	}
}

func TestUnknownStateIsRefusedWithTheKnownNames(t *testing.T) {
	_, err := run(t.Context(), config{Event: filepath.Join(eventsDir, "schedule.json"), State: "haunted", RIE: rieBin, Bootstrap: bootstrap}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), sandbox.StateDrifted) {
		t.Errorf("err = %v, want one naming the known states", err)
	}
}
