package dataplane

// Result is what TestBench writes to $BENCH_DATAPLANE.
type Result struct {
	Config  Config       `json:"config"`
	Paths   []PathResult `json:"paths"`
	Startup Startup      `json:"startup"`
}

// Path returns the result of the named path, or nil.
func (r *Result) Path(name string) *PathResult {
	for i := range r.Paths {
		if r.Paths[i].Name == name {
			return &r.Paths[i]
		}
	}
	return nil
}
