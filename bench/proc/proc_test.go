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
	before, err := proc.CPUSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
	}
	after, err := proc.CPUSeconds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 0.1 {
		t.Errorf("300 ms of spinning added %.2f s of CPU", after-before)
	}
	if got := proc.Comm(os.Getpid()); got == "" {
		t.Error("no command name")
	}
}
