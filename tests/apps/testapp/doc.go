// Command testapp is the application the data-plane tests run inside their
// network-namespace "pods": one binary, several modes, each reporting what
// it received so a test can prove the sidecars changed nothing.
//
//	testapp rest -listen :8080 -name server     HTTP/1.1 echo service (-grpc: also gRPC, h2c;
//	                                            -fail-percent N: N% 500s; -hang: never answers;
//	                                            -tls-cert/-tls-key: HTTPS)
//	testapp grpc -listen :9090 -name server     gRPC TestService (unary + server streaming)
//	testapp grpc-call -target server:9090 ...   gRPC client (unary, or -stream)
//	testapp get [-H k:v] URL                    HTTP client, prints a Response as JSON (-cacert: HTTPS)
//	testapp load -n 1000 -c 8 [-H k:v] URL      many GETs, prints statuses, servers and slow requests
//	testapp tcp-echo -listen :7000              raw TCP echo (-banner: server speaks first)
//	testapp tcp-call -addr host:7000 -msg hi    raw TCP client
//	testapp probe-target -kind http|grpc|tcp    what a probe checks; POST :8081/down takes it down
//	testapp load -url U -rate 20 -duration 30s  steady GETs, a JSON report (-after-term: on after SIGTERM)
//
// The REST service also acts as a client on request: GET /call?url=U makes
// the pod itself call U (through its own sidecar) and returns what came
// back, so a test can drive a client pod from outside; with
// -copy-trace-headers it copies the trace headers of docs/tracing.md from
// the request it serves to the one it makes, as a traced app must.
package main
