package harness

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sample is one line of the Prometheus text format.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics is a scrape of an Envoy's stats listener.
type Metrics []Sample

// Sum adds the values of every sample named name whose labels include
// all of match.
func (m Metrics) Sum(name string, match map[string]string) float64 {
	var sum float64
	for _, s := range m.Select(name, match) {
		sum += s.Value
	}
	return sum
}

// Select returns the samples named name whose labels include all of match.
func (m Metrics) Select(name string, match map[string]string) Metrics {
	var out Metrics
	for _, s := range m {
		if s.Name != name {
			continue
		}
		ok := true
		for k, v := range match {
			if s.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// LabelValues lists the distinct values of label on samples named name.
func (m Metrics) LabelValues(name, label string) []string {
	seen := map[string]bool{}
	for _, s := range m {
		if s.Name == name {
			if v, ok := s.Labels[label]; ok {
				seen[v] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range maps.Keys(seen) {
		out = append(out, v)
	}
	return out
}

// Stats scrapes the pod's stats listener from outside the pod, as
// Prometheus does.
func (p *Pod) Stats(t T) Metrics {
	t.Helper()
	body, status, err := HostGet(fmt.Sprintf("http://%s%s", p.statsAddr(), p.StatsPath))
	if err != nil || status != http.StatusOK {
		t.Fatalf("pod %s: scraping stats: status %d, %v", p.Name, status, err)
	}
	m, err := ParseMetrics(body)
	if err != nil {
		t.Fatalf("pod %s: %v", p.Name, err)
	}
	return m
}

// HostGet GETs url from the host (the node), returning body and status.
func HostGet(url string) (string, int, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, err
}

// ParseMetrics reads the Prometheus text format Envoy writes.
func ParseMetrics(text string) (Metrics, error) {
	var m Metrics
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("parsing metrics line %d %q: %w", n+1, line, err)
		}
		m = append(m, s)
	}
	return m, nil
}

func parseSample(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	rest := line
	if i := strings.IndexAny(rest, "{ "); i < 0 {
		return s, fmt.Errorf("no value")
	} else {
		s.Name, rest = rest[:i], rest[i:]
	}
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, ", ")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, "=\"")
			if eq < 0 {
				return s, fmt.Errorf("bad label")
			}
			key := rest[:eq]
			rest = rest[eq+2:]
			var val strings.Builder
			for {
				if rest == "" {
					return s, fmt.Errorf("unterminated label value")
				}
				c := rest[0]
				rest = rest[1:]
				if c == '\\' && rest != "" {
					switch rest[0] {
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(rest[0])
					}
					rest = rest[1:]
					continue
				}
				if c == '"' {
					break
				}
				val.WriteByte(c)
			}
			s.Labels[key] = val.String()
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("value: %w", err)
	}
	s.Value = v
	return s, nil
}
