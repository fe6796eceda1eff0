package ledger_test

import (
	"errors"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger/ledgertest"
)

func TestSecurityHubMemory(t *testing.T) {
	s, _ := ledgertest.NewTable(t, emuClient(awsemu.StartTest(t)), ledger.Options{})
	ctx := t.Context()
	m, err := s.LoadFindings(ctx)
	if err != nil || m.Version != 0 || len(m.Doc) != 0 {
		t.Fatalf("empty memory: %+v %v", m, err)
	}
	if err := s.SaveFindings(ctx, []byte(`{"items":{}}`), 0, ledgertest.Base); err != nil {
		t.Fatal(err)
	}
	// A second first save (another run that read nothing) loses.
	if err := s.SaveFindings(ctx, []byte(`{"other":1}`), 0, ledgertest.Base); !errors.Is(err, ledger.ErrStale) {
		t.Fatalf("concurrent first save: %v, want ErrStale", err)
	}
	m, err = s.LoadFindings(ctx)
	if err != nil || m.Version != 1 || string(m.Doc) != `{"items":{}}` {
		t.Fatalf("after save: %+v %v", m, err)
	}
	if err := s.SaveFindings(ctx, []byte(`{"items":{"a":{}}}`), 1, ledgertest.Base); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFindings(ctx, []byte(`{"stale":1}`), 1, ledgertest.Base); !errors.Is(err, ledger.ErrStale) {
		t.Fatalf("save over a stale version: %v, want ErrStale", err)
	}
	if m, _ = s.LoadFindings(ctx); m.Version != 2 || string(m.Doc) != `{"items":{"a":{}}}` {
		t.Fatalf("stale save wrote: %+v", m)
	}
}
