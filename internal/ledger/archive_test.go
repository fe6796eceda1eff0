package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger/ledgertest"
)

func TestArchivedDocumentsReadBackWhole(t *testing.T) {
	emu := awsemu.StartTest(t)
	s, _ := ledgertest.NewTable(t, emuClient(emu), ledger.Options{})
	small := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	// 131,072 characters of three bytes each: past DynamoDB's 400 KB as text.
	wide := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:UserAgent":"` +
		strings.Repeat("€", dhmc.MaxPolicyDocument-140) + `"}}}]}`
	for name, doc := range map[string]string{"small": small, "wide": wide} {
		t.Run(name, func(t *testing.T) {
			_, ref := dhmc.ReadDocument(doc)
			loc, err := s.ArchiveDocument(t.Context(), dhmc.KeptDocument{AccountID: "111122223333", Role: "R", Policy: name, Document: doc, Ref: ref})
			if err != nil {
				t.Fatal(err)
			}
			pk, sk := ledger.DocumentKey("111122223333", "R", name, ref.SHA256)
			if loc.PK != pk || loc.SK != sk || !strings.Contains(pk, "#R#"+name) {
				t.Errorf("location = %+v, want pk %s sk %s", loc, pk, sk)
			}
			got, err := s.ArchivedDocument(t.Context(), loc)
			if err != nil || got != doc {
				t.Errorf("read back %d bytes (err %v), want the %d archived", len(got), err, len(doc))
			}
		})
	}
}

func TestArchivingFailsWhenTheLedgerIsDown(t *testing.T) {
	emu := awsemu.StartTest(t)
	s, _ := ledgertest.NewTable(t, emuClient(emu), ledger.Options{})
	emu.Inject(awsemu.Fault{Op: "dynamodb:UpdateItem", Kind: awsemu.FaultAccessDenied})
	_, ref := dhmc.ReadDocument(`{"Statement":[]}`)
	_, err := s.ArchiveDocument(t.Context(), dhmc.KeptDocument{Role: "R", Policy: "p", Document: "{}", Ref: ref})
	if !errors.Is(err, ledger.ErrUnavailable) {
		t.Errorf("error = %v, want ErrUnavailable", err)
	}
}
