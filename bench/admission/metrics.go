package admission

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Injected reads planeless_admissions_total{result="injected"} from the
// webhook's own metrics: the reviews it says it injected.
func Injected(s *Server) (int, error) {
	resp, err := http.Get(s.MetricsURL)
	if err != nil {
		return 0, fmt.Errorf("scraping %s: %w", s.MetricsURL, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, `planeless_admissions_total{result="injected"} `); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("parsing %q: %w", line, err)
			}
			return int(f), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading %s: %w", s.MetricsURL, err)
	}
	return 0, fmt.Errorf("%s has no planeless_admissions_total{result=\"injected\"}", s.MetricsURL)
}
