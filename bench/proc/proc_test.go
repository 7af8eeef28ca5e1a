package proc_test

import (
	"os"
	"testing"
	"time"

	"github.com/planeless/planeless/bench/proc"
	_ "github.com/planeless/planeless/tests/golden"
)

func TestReadsThisProcesssMemoryAndCPU(t *testing.T) {
	m, err := proc.MemoryOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Peak < m.RSS || m.Anon <= 0 || m.Anon > m.RSS {
		t.Errorf("memory %+v: want 0 < anon <= rss <= peak", m)
	}
	if m.PSS <= 0 || m.PSS > m.RSS || m.Private <= 0 || m.Private > m.RSS {
		t.Errorf("memory %+v: want 0 < pss <= rss and 0 < private <= rss", m)
	}
	before, err := proc.CPUSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel has charged this process some CPU time; the
	// reading must grow (no timing is asserted: a busy machine only makes
	// the loop longer).
	var after float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if after, err = proc.CPUSeconds(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		if after-before >= 0.05 {
			break
		}
	}
	if after-before < 0.05 {
		t.Errorf("CPU time went from %.2f s to %.2f s while spinning", before, after)
	}
	if got := proc.Comm(os.Getpid()); got == "" {
		t.Error("no command name")
	}
}
