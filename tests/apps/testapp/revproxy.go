package main

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// runRevProxy forwards every request to -to, keeping the Host header the
// caller sent, as many reverse proxies and ingress controllers do: what a
// caller outside the pod controls of the pod's outbound requests.
func runRevProxy(args []string) error {
	fs := flag.NewFlagSet("revproxy", flag.ExitOnError)
	listen := fs.String("listen", ":8081", "address to listen on")
	to := fs.String("to", "", "URL every request is forwarded to, e.g. http://server:8080")
	_ = fs.Parse(args)

	target, err := url.Parse(*to)
	if err != nil || target.Host == "" {
		return fmt.Errorf("-to %q is not a URL", *to)
	}
	// NewSingleHostReverseProxy rewrites the URL, not the Host header.
	srv := &http.Server{Addr: *listen, Handler: httputil.NewSingleHostReverseProxy(target), ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}
