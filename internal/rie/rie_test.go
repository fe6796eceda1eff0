package rie_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/rie"
)

func TestInstanceInvokesTheBootstrapUnderRIE(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	rieBin, bootstrap, err := rie.Build(t.Context(), root, t.TempDir(), "./internal/rie/testdata/echo")
	if err != nil {
		t.Fatal(err)
	}
	in, err := rie.Start(t.Context(), rie.Options{
		RIE: rieBin, Bootstrap: bootstrap,
		Env: append(os.Environ(), "ECHO_MARKER=from-env"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()

	res, err := in.Invoke(t.Context(), []byte(`{"n":1}`))
	if err != nil || res.Err() != nil {
		t.Fatalf("invoke: %v %v", err, res.Err())
	}
	var got struct {
		Payload map[string]int `json:"payload"`
		Marker  string         `json:"marker"`
	}
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if got.Payload["n"] != 1 || got.Marker != "from-env" {
		t.Errorf("got %+v, want the payload and environment echoed", got)
	}

	res, err = in.Invoke(t.Context(), []byte(`"fail"`))
	if err != nil {
		t.Fatal(err)
	}
	if res.ErrorMessage != "asked to fail" || res.ErrorType == "" {
		t.Errorf("function error = %q %q, want the handler's error", res.ErrorType, res.ErrorMessage)
	}

	if d, ok := in.InitDuration(); !ok || d <= 0 {
		t.Errorf("init duration = %v %v, want it parsed from INIT REPORT; logs:\n%s", d, ok, in.Logs())
	}
	if rss, err := in.BootstrapPeakRSS(); err != nil || rss < 1<<20 {
		t.Errorf("peak RSS = %d %v, want the live process's VmHWM", rss, err)
	}
}

func TestBuildReportsProgressAndReturnsCompilerErrors(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	_, _, err = rie.BuildWith(t.Context(), root, t.TempDir(), "./internal/rie/testdata/broken", rie.BuildOptions{Progress: &progress})
	if err == nil {
		t.Fatal("a package that does not compile built")
	}
	if !strings.Contains(err.Error(), "cannot use") || !strings.Contains(err.Error(), "broken") {
		t.Errorf("error does not carry the compiler's message:\n%v", err)
	}
	for _, want := range []string{"building bootstrap", "FAILED to build bootstrap", "built aws-lambda-rie in "} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
}
