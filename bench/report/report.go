package report

import (
	"github.com/planeless/planeless/bench/admission"
	"github.com/planeless/planeless/bench/dataplane"
	"github.com/planeless/planeless/bench/podstart"
)

// Report is one `make bench` run.
type Report struct {
	Generated string  `json:"generated"`
	Quick     bool    `json:"quick"`
	Seconds   float64 `json:"seconds"`
	Machine   Machine `json:"machine"`

	Benchmarks []Benchmark       `json:"go_benchmarks"`
	Admission  AdmissionLoad     `json:"admission_load"`
	DataPlane  *dataplane.Result `json:"data_plane,omitempty"`
	Ratios     *DataPlaneRatios  `json:"data_plane_ratios,omitempty"`
	PodStartup *podstart.Result  `json:"pod_startup,omitempty"`
	Targets    []Target          `json:"targets"`
	Skipped    map[string]string `json:"skipped,omitempty"`
	// LoadByPhase is the 1-minute load average when each phase began.
	LoadByPhase []PhaseLoad `json:"load_average_by_phase,omitempty"`
	// Ablation is the last `make bench-ablation` run, from its own file
	// (ablation.json beside report.json), when there is one.
	Ablation *dataplane.Ablation `json:"-"`
}

// PhaseLoad is the machine's load when a phase began.
type PhaseLoad struct {
	Phase   string  `json:"phase"`
	LoadAvg float64 `json:"load_average_1m"`
}

// Machine describes where the numbers come from.
type Machine struct {
	CPU          string  `json:"cpu"`
	Cores        int     `json:"cores"`
	MemoryBytes  int64   `json:"memory_bytes"`
	Kernel       string  `json:"kernel"`
	Go           string  `json:"go"`
	Envoy        string  `json:"envoy"`
	LoadAvgStart float64 `json:"load_average_1m_at_start"`
	LoadAvgEnd   float64 `json:"load_average_1m_at_end"`
}

// Benchmark is one Go benchmark of the admission path.
type Benchmark struct {
	Name           string  `json:"name"`
	Iterations     int     `json:"iterations"`
	NsPerOp        float64 `json:"ns_per_op"`
	BytesPerOp     int64   `json:"bytes_per_op"`
	AllocsPerOp    int64   `json:"allocs_per_op"`
	BootstrapBytes int     `json:"bootstrap_bytes,omitempty"`
}

// AdmissionLoad is the webhook and its baseline under TLS load.
type AdmissionLoad struct {
	Reviews int               `json:"reviews_per_level"`
	Warmup  int               `json:"warmup_per_level"`
	Pod     string            `json:"pod"`
	Levels  []admission.Level `json:"levels"`
	// Large is the same at one client for the large pod (20 containers,
	// 2,000 environment variables, 50 volumes), LargeReviews reviews.
	LargeReviews int               `json:"large_pod_reviews,omitempty"`
	Large        []admission.Level `json:"large_pod_levels,omitempty"`
}

// Target is one of the targets and what this run measured.
type Target struct {
	Area     string `json:"area"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// DataPlaneRatios compare the paths: each to direct, and planeless to
// envoy-quickly.
type DataPlaneRatios struct {
	ToDirect              map[string]PathRatio `json:"to_direct"`
	PlanelessEnvoyQuickly PathRatio            `json:"planeless_to_envoy_quickly"`
	// NoLogEnvoyQuickly is planeless with its access log off, to
	// envoy-quickly (which has none).
	NoLogEnvoyQuickly PathRatio `json:"planeless_no_access_log_to_envoy_quickly"`
	// AddedP99MS is each path's fixed-rate HTTP p99 minus direct's.
	AddedHTTPP99MS map[string]float64 `json:"added_http_p99_ms"`
	AddedGRPCP99MS map[string]float64 `json:"added_grpc_p99_ms"`
}

// PathRatio is a / b for one pair of paths.
type PathRatio struct {
	HTTPP50    float64 `json:"http_p50"`
	HTTPP90    float64 `json:"http_p90"`
	HTTPP99    float64 `json:"http_p99"`
	GRPCP50    float64 `json:"grpc_p50"`
	GRPCP90    float64 `json:"grpc_p90"`
	GRPCP99    float64 `json:"grpc_p99"`
	HTTPMaxRPS float64 `json:"http_max_throughput"`
	GRPCMaxRPS float64 `json:"grpc_max_throughput"`
	CPUPer1000 float64 `json:"sidecar_cpu_per_1000_requests,omitempty"`
	IdleRSS    float64 `json:"sidecar_idle_rss,omitempty"`
}
