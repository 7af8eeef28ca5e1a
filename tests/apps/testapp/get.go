package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/planeless/planeless/tests/apps/echo"
)

// runGet GETs a URL (or -X METHOD with -d BODY) and prints an echo.Response; a transport error is
// printed in its Error field (status 0) and still exits 0, so callers
// tell "refused" from "404" by reading the JSON. With -h2c it speaks
// HTTP/2 in clear text from the first byte (prior knowledge), as gRPC
// clients do.
func runGet(args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	var hs headerFlags
	fs.Var(&hs, "H", "header key:value (repeatable)")
	method := fs.String("X", http.MethodGet, "request method")
	body := fs.String("d", "", "request body")
	h2c := fs.Bool("h2c", false, "speak HTTP/2 without TLS from the first byte (prior knowledge)")
	caCert := fs.String("cacert", "", "trust this CA (PEM) for HTTPS, and only it")
	connectTo := fs.String("connect-to", "", "connect to this host:port whatever the URL's host (which stays the Host and the TLS server name), like curl --connect-to")
	timeout := fs.Duration("timeout", 0, "give up on the answer after this long and hang up (0: the client's default)")
	_ = fs.Parse(args)
	if *caCert != "" || *connectTo != "" {
		transport := &http.Transport{}
		if *caCert != "" {
			pem, err := os.ReadFile(*caCert)
			if err != nil {
				return err
			}
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(pem)
			transport.TLSClientConfig = &tls.Config{RootCAs: roots}
		}
		if *connectTo != "" {
			transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, *connectTo)
			}
		}
		client = &http.Client{Timeout: client.Timeout, Transport: transport}
	}

	headers := http.Header{}
	for _, kv := range hs {
		k, v, _ := strings.Cut(kv, ":")
		headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	c := client
	if *h2c {
		protocols := new(http.Protocols)
		protocols.SetUnencryptedHTTP2(true)
		c = &http.Client{Timeout: client.Timeout, Transport: &http.Transport{Protocols: protocols}}
	}
	if *timeout > 0 {
		c = &http.Client{Timeout: *timeout, Transport: c.Transport}
	}
	resp, err := do(context.Background(), c, *method, fs.Arg(0), *body, headers)
	if err != nil {
		resp = echo.Response{Error: err.Error()}
	}
	return printJSON(resp)
}
