// Package workload builds the pods every benchmark measures: a typical
// emojivoto workload, a large pod, and pods with n intercepted ports. The Go
// benchmarks in inject/ and the bench driver share them, so both measure the
// same thing.
package workload
