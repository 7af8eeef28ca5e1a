package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/tests/apps/echo"
)

func runREST(args []string) error {
	fs := flag.NewFlagSet("rest", flag.ExitOnError)
	listen := fs.String("listen", ":8080", "address to listen on")
	name := fs.String("name", "rest", "name reported in every reply")
	withGRPC := fs.Bool("grpc", false, "also serve the gRPC TestService on the same port (h2c)")
	copyTrace := fs.Bool("copy-trace-headers", false, "/call copies the trace headers it received (bootstrap.TraceHeaders) to its request, as docs/tracing.md asks of an app")
	termDelay := fs.Duration("term-delay", 0, "on SIGTERM, serve on this long, then exit (an app that lets its pod drain)")
	failPercent := fs.Float64("fail-percent", 0, "answer this percentage of the echo requests with a 500 (a flaky service); a request's fail header (0 to 1, the Istio 101 demo's) does the same")
	hang := fs.Bool("hang", false, "never answer an echo request: hold it until the client gives up (a hanging service)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM), and -tls-key")
	tlsKey := fs.String("tls-key", "", "key of -tls-cert (PEM)")
	_ = fs.Parse(args)

	mux := http.NewServeMux()
	mux.HandleFunc("/call", func(w http.ResponseWriter, r *http.Request) { call(w, r, *copyTrace) })
	mux.HandleFunc("/stream", stream)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if *hang {
			<-r.Context().Done()
			return
		}
		echoRequest(w, r, *name, failing(r, *failPercent))
	})
	var handler http.Handler = mux
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	if *withGRPC {
		// One port, both protocols: what a sidecar's gRPC/REST split sees.
		g := newGRPCServer(*name)
		protocols.SetUnencryptedHTTP2(true)
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
				g.ServeHTTP(w, r)
				return
			}
			mux.ServeHTTP(w, r)
		})
	}
	srv := &http.Server{Addr: *listen, Handler: handler, Protocols: protocols, ReadHeaderTimeout: 10 * time.Second}
	if *termDelay > 0 {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM)
		go func() {
			<-sigs
			time.Sleep(*termDelay)
			_ = srv.Shutdown(context.Background())
		}()
	}
	var err error
	if *tlsCert != "" {
		err = srv.ListenAndServeTLS(*tlsCert, *tlsKey)
	} else {
		err = srv.ListenAndServe()
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// failing decides whether a request fails: with the service's -fail-percent
// chance, or the chance its fail header gives (0 to 1).
func failing(r *http.Request, percent float64) bool {
	if f, err := strconv.ParseFloat(r.Header.Get("fail"), 64); err == nil && f > 0 {
		percent = max(percent, f*100)
	}
	return percent > 0 && rand.Float64()*100 < percent
}

// stream sends ?chunks=N lines (default 4), one every ?interval=D (default
// 5s), flushing each: a slow download, or with ?sse=1 server-sent events.
func stream(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	chunks, err := strconv.Atoi(q.Get("chunks"))
	if err != nil || chunks < 1 || chunks > 1000 {
		chunks = 4
	}
	interval, err := time.ParseDuration(q.Get("interval"))
	if err != nil || interval < 0 || interval > time.Minute {
		interval = 5 * time.Second
	}
	format := "chunk %d\n"
	w.Header().Set("Content-Type", "text/plain")
	if q.Get("sse") != "" {
		format = "data: event %d\n\n"
		w.Header().Set("Content-Type", "text/event-stream")
	}
	flusher, _ := w.(http.Flusher)
	for i := 1; i <= chunks; i++ {
		if i > 1 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(interval):
			}
		}
		fmt.Fprintf(w, format, i)
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// echoRequest replies with what it received; ?status=N sets the reply's
// status code, ?delay=D (a Go duration) delays it, ?header=K:V adds a
// response header; fail answers 500.
func echoRequest(w http.ResponseWriter, r *http.Request, name string, fail bool) {
	body, _ := io.ReadAll(r.Body)
	if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil && d > 0 && d < time.Minute {
		time.Sleep(d)
	}
	// ?header=K:V sets a response header (repeatable).
	for _, kv := range r.URL.Query()["header"] {
		if k, v, ok := strings.Cut(kv, ":"); ok {
			w.Header().Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	status := http.StatusOK
	if s := r.URL.Query().Get("status"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 100 && n <= 599 {
			status = n
		}
	}
	if fail {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(echo.Request{
		Server:  name,
		Method:  r.Method,
		Path:    r.URL.RequestURI(),
		Proto:   r.Proto,
		Host:    r.Host,
		Headers: r.Header,
		Body:    string(body),
		Remote:  r.RemoteAddr,
	})
}

// call makes this pod GET ?url= and replies with what came back, with
// the status that came back. With copyTrace, the request carries the
// trace headers this one arrived with, so the sidecars' spans join.
func call(w http.ResponseWriter, r *http.Request, copyTrace bool) {
	w.Header().Set("Content-Type", "application/json")
	var headers http.Header
	if copyTrace {
		headers = traceHeaders(r.Header)
	}
	resp, err := do(r.Context(), client, http.MethodGet, r.URL.Query().Get("url"), "", headers)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		_ = json.NewEncoder(w).Encode(echo.Response{Error: err.Error()})
		return
	}
	if resp.Status != 0 {
		w.WriteHeader(resp.Status)
	}
	_ = json.NewEncoder(w).Encode(resp)
}

var client = &http.Client{Timeout: 30 * time.Second}

func do(ctx context.Context, c *http.Client, method, url, body string, headers http.Header) (echo.Response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return echo.Response{}, fmt.Errorf("building request: %w", err)
	}
	for k, vs := range headers {
		if http.CanonicalHeaderKey(k) == "Host" {
			// Go sends req.Host, never a Host in the header map.
			req.Host = vs[0]
			continue
		}
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		return echo.Response{}, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return echo.Response{}, fmt.Errorf("reading body: %w", err)
	}
	return echo.Response{Status: resp.StatusCode, Headers: resp.Header, Body: string(got)}, nil
}

// traceHeaders returns the headers of in that docs/tracing.md asks an
// application to copy (the Zipkin list, a superset of the OTLP one).
func traceHeaders(in http.Header) http.Header {
	out := http.Header{}
	for _, name := range bootstrap.TraceHeaders[proxy.TracingZipkin] {
		if vs := in.Values(name); len(vs) > 0 {
			out[http.CanonicalHeaderKey(name)] = vs
		}
	}
	return out
}
