// Package admission measures planeless's webhook over TLS under load, next
// to a baseline server on the same TLS stack that allows everything without
// work: it generates the serving certificate, starts both servers as their
// own processes (so each one's RSS is its own), sends real AdmissionReview
// v1 requests at a given concurrency and checks every answer.
package admission
