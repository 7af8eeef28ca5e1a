package bootstrap_test

import "github.com/planeless/planeless/proxy"

// The traffic policy's golden files: the Istio 101 routes (retries, a
// header canary, a weighted split, faults), a timeout on every route, and
// an allow-list with every kind of entry.
const istio101Routes = `
middleware:
  timeout: 10s
  retries: {attempts: 3, perTryTimeout: 2s, on: [5xx, reset, connect-failure]}
  rules:
  - match: {headers: {x-dev-user: super-secret}}
    to: middleware-canary
  - to: {middleware-prod: 80, middleware-canary: 20}
  fault: {abort: {status: 503, percent: 10}, delay: {fixed: 2s, percent: 5}}
backend.data:8080:
  retries: {attempts: 2, on: [503, connect-failure]}
`

func init() {
	cases["routes-istio101"] = pod("shop", "frontend-6f7d9c8b5-",
		withLabel("app", "frontend"), withLabel("version", "prod"), withPort("http", 8080),
		withAnnotation(proxy.Prefix+"routes", istio101Routes))
	cases["timeout"] = pod("shop", "cart-7c9d8f6b5-",
		withLabel("app", "cart"), withPort("http", 8080), withPort("grpc", 9090),
		withAnnotation(proxy.Prefix+"timeout", "10s"))
	cases["egress-allow-list"] = pod("shop", "frontend-6f7d9c8b5-",
		withLabel("app", "frontend"), withPort("http", 8080),
		withAnnotation(proxy.Prefix+"egress-policy", "allow-list"),
		withAnnotation(proxy.Prefix+"egress-allow", "api.github.com, *.googleapis.com, registry.example.com:443, 10.0.0.0/8, 10.1.0.0/16:5432, 192.168.7.7:6379, fd00::/8"),
		withAnnotation(proxy.Prefix+"routes", "middleware: {retries: {attempts: 3}}"))
}
