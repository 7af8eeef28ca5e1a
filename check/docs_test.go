package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planeless/planeless/tests/need"
)

// docs/check.md shows the golden report, so the document cannot drift
// from what check prints.
func TestDocsShowTheGoldenReport(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(need.RepoRoot(), "docs", "check.md"))
	if err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile(filepath.Join("testdata", "report.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```console\n$ planeless check\n"+string(report)+"```\n") {
		t.Error("docs/check.md does not show check/testdata/report.txt as the output of planeless check; copy it there")
	}
}
