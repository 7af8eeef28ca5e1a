package proxy

import (
	"strings"
	"testing"
)

// Defaults with a bad value are refused with a message naming the flag, the
// chart value, the value and what is allowed: the webhook refuses to start.
func TestDefaultsValidate(t *testing.T) {
	tests := map[string]struct {
		change  func(*Defaults)
		wantErr []string
	}{
		"the shipped defaults are valid": {change: func(*Defaults) {}},
		"an unknown log level": {
			change:  func(d *Defaults) { d.LogLevel = "bogus" },
			wantErr: []string{`invalid value "bogus" for --proxy-log-level (chart value proxy.logLevel): unknown log level (allowed: trace, debug, info, warning, error, critical, off)`},
		},
		"no worker thread": {
			change:  func(d *Defaults) { d.Concurrency = 0 },
			wantErr: []string{`invalid value "0" for --proxy-concurrency`, "0 is out of range (allowed: an integer from 1 to 64)"},
		},
		"a negative drain time": {
			change:  func(d *Defaults) { d.DrainSeconds = -3 },
			wantErr: []string{`invalid value "-3" for --drain-seconds`, "(allowed: an integer from 0 to 300)"},
		},
		"the proxy running as root": {
			change:  func(d *Defaults) { d.ProxyUID = 0 },
			wantErr: []string{`invalid value "0" for --proxy-uid (chart value proxy.uid): 0 is out of range`},
		},
		"the inbound port on the stats port": {
			change:  func(d *Defaults) { d.Ports.Inbound = 15090 },
			wantErr: []string{"--proxy-inbound-port and --proxy-stats-port are both 15090: the proxy's ports must differ"},
		},
		"the stats port on the outbound port": {
			change:  func(d *Defaults) { d.Ports.Stats = 15001 },
			wantErr: []string{"--proxy-outbound-port and --proxy-stats-port are both 15001"},
		},
		"port zero": {
			change:  func(d *Defaults) { d.Ports.Stats = 0 },
			wantErr: []string{`invalid value "0" for --proxy-stats-port`, "port 0 is out of range"},
		},
		"an unknown access log format": {
			change:  func(d *Defaults) { d.AccessLogFormat = "xml" },
			wantErr: []string{`invalid value "xml" for --access-log (chart value proxy.accessLog): unknown access log format (allowed: json, text, off)`},
		},
		"an unknown tracing provider": {
			change:  func(d *Defaults) { d.Tracing.Provider = "jaeger" },
			wantErr: []string{`invalid value "jaeger" for --tracing (chart value tracing.provider)`},
		},
		"a URL as the tracing endpoint": {
			change:  func(d *Defaults) { d.Tracing.Endpoint = "http://zipkin:9411" },
			wantErr: []string{`invalid value "http://zipkin:9411" for --tracing-endpoint`, "not HOST:PORT"},
		},
		"a tracing provider without an endpoint": {
			change:  func(d *Defaults) { d.Tracing.Provider = TracingZipkin },
			wantErr: []string{"--tracing=zipkin needs --tracing-endpoint (chart value tracing.endpoint)"},
		},
		"a sampling percentage above 100": {
			change:  func(d *Defaults) { d.Tracing.SamplingPercent = 150 },
			wantErr: []string{`invalid value "150" for --tracing-sampling`, "150 is out of range"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := DefaultDefaults()
			tc.change(&d)
			err := d.Validate()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted the defaults")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate = %v, want an error containing %q", err, want)
				}
			}
		})
	}
}

// A flag parses with the setting's parser: what an annotation refuses, the
// flag refuses too, saying what is allowed.
func TestFlagValuesParseLikeTheirAnnotations(t *testing.T) {
	tests := map[string]struct {
		flag, value string
		want        func(Defaults) bool
		wantErr     string
	}{
		"a log level in capitals":           {flag: "proxy-log-level", value: "DEBUG", want: func(d Defaults) bool { return d.LogLevel == "debug" }},
		"an unknown log level":              {flag: "proxy-log-level", value: "bogus", wantErr: "unknown log level (allowed: trace, debug"},
		"concurrency past the annotation's": {flag: "proxy-concurrency", value: "65", wantErr: "65 is out of range (allowed: an integer from 1 to 64)"},
		"a boolean as the annotation says":  {flag: "egress", value: "disabled", want: func(d Defaults) bool { return !d.Egress }},
		"ports with a range":                {flag: "exclude-outbound-ports", value: "5432,8000-8002", want: func(d Defaults) bool { return joinPorts(d.ExcludeOutboundPorts) == "5432, 8000, 8001, 8002" }},
		"no excluded port":                  {flag: "exclude-outbound-ports", value: "", want: func(d Defaults) bool { return len(d.ExcludeOutboundPorts) == 0 }},
		"a port out of range":               {flag: "proxy-stats-port", value: "70000", wantErr: "port 70000 is out of range (allowed: a port from 1 to 65535"},
		"no tracing endpoint":               {flag: "tracing-endpoint", value: "", want: func(d Defaults) bool { return d.Tracing.Endpoint == "" }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := DefaultDefaults()
			s := settingFor(t, tc.flag)
			err := s.Bind(&d).Set(tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Set(%q) = %v, want an error containing %q", tc.value, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%q): %v", tc.value, err)
			}
			if !tc.want(d) {
				t.Errorf("Set(%q) did not set the defaults: %+v", tc.value, d)
			}
		})
	}
}

// Each setting reads back what it was set to, so that the chart's values
// and the flags round-trip, and each is documented.
func TestSettingsRoundTrip(t *testing.T) {
	for _, s := range Settings {
		t.Run(s.Flag, func(t *testing.T) {
			d := DefaultDefaults()
			v := s.Bind(&d).String()
			again := DefaultDefaults()
			if err := s.Bind(&again).Set(v); err != nil {
				t.Fatalf("the default %q does not parse: %v", v, err)
			}
			if got := s.Bind(&again).String(); got != v {
				t.Errorf("set to %q, reads back %q", v, got)
			}
			if s.Usage == "" || s.Allowed == "" || s.Value == "" {
				t.Error("the setting lacks usage, allowed values or its chart value")
			}
		})
	}
}

func settingFor(t *testing.T, flag string) Setting {
	t.Helper()
	for _, s := range Settings {
		if s.Flag == flag {
			return s
		}
	}
	t.Fatalf("no setting for --%s", flag)
	return Setting{}
}
