package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// runRevProxy forwards every request to -to, keeping the Host header the
// caller sent, as many reverse proxies and ingress controllers do: what a
// caller outside the pod controls of the pod's outbound requests.
func runRevProxy(args []string) error {
	fs := flag.NewFlagSet("revproxy", flag.ExitOnError)
	listen := fs.String("listen", ":8081", "address to listen on")
	to := fs.String("to", "", "URL every request is forwarded to, e.g. http://server:8080; several, comma-separated, share the requests at random, as the pods behind a Service do")
	_ = fs.Parse(args)

	var proxies []*httputil.ReverseProxy
	for _, u := range strings.Split(*to, ",") {
		target, err := url.Parse(strings.TrimSpace(u))
		if err != nil || target.Host == "" {
			return fmt.Errorf("-to %q is not a URL", u)
		}
		// NewSingleHostReverseProxy rewrites the URL, not the Host header.
		proxies = append(proxies, httputil.NewSingleHostReverseProxy(target))
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[rand.IntN(len(proxies))].ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: *listen, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}
