package bootstrap

import (
	"regexp"
	"strings"
	"testing"
)

// The shapes are RE2, which Go's regexp also is: what matches here is what
// Envoy keeps as a label (TestMetricLabelsStayBounded checks Envoy itself).
func TestNamesAreKeptOnlyWhenShapedLikeOne(t *testing.T) {
	host, workload := regexp.MustCompile(hostShape), regexp.MustCompile(workloadShape)
	for _, c := range []struct {
		name, value string
		shape       *regexp.Regexp
		kept        bool
	}{
		{"a Service's short name is kept", "catalog", host, true},
		{"a Service's name with its port is kept", "catalog.shop.svc.cluster.local:9090", host, true},
		{"an IPv4 address with its port is kept", "10.0.0.7:8080", host, true},
		{"an IPv6 address in brackets with its port is kept", "[fd00::7]:8080", host, true},
		{"upper case is kept as sent", "Catalog.Shop", host, true},
		{"a host of 128 characters is kept", strings.Repeat("h", MaxNameLength), host, true},
		{"a host of 129 characters is not", strings.Repeat("h", MaxNameLength+1), host, false},
		{"an empty Host is not", "", host, false},
		{"a host with an underscore is not", "cat_alog", host, false},
		{"a host with a leading hyphen is not", "-catalog", host, false},
		{"a URL is not", "http://catalog/", host, false},
		{"a port of six digits is not", "catalog:123456", host, false},
		{"an IPv6 address without brackets is not", "fd00::7", host, false},
		{"a Host with a space is not", "catalog shop", host, false},
		{"a Host with a newline is not", "catalog\nshop", host, false},
		{"a workload is kept", "web.emojivoto", workload, true},
		{"a workload with an underscore is kept", "web_v2.shop", workload, true},
		{"a workload with a colon is not", "web:8080", workload, false},
		{"a workload of 129 characters is not", strings.Repeat("w", MaxNameLength+1), workload, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.shape.MatchString(c.value); got != c.kept {
				t.Errorf("%q kept: %v, want %v", c.value, got, c.kept)
			}
		})
	}
}
