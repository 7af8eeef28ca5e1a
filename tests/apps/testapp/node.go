package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// runProbeTarget serves what a probe of -kind checks on -listen: HTTP
// (GET /healthz answers 200), gRPC (grpc.health.v1, SERVING) or bare TCP
// (accepts, then closes). On -control, POST /down closes that listener and
// every connection, the process living on (an app that is down, its
// container running), and POST /up listens again.
func runProbeTarget(args []string) error {
	fs := flag.NewFlagSet("probe-target", flag.ExitOnError)
	listen := fs.String("listen", ":8080", "address the probe checks")
	control := fs.String("control", ":8081", "address of the /down and /up control endpoints")
	kind := fs.String("kind", "http", "http, grpc or tcp")
	_ = fs.Parse(args)

	var (
		mu   sync.Mutex
		stop func()
	)
	up := func() error {
		mu.Lock()
		defer mu.Unlock()
		if stop != nil {
			return nil
		}
		lis, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		switch *kind {
		case "http":
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "ok\n")
			}), ReadHeaderTimeout: 5 * time.Second}
			go func() { _ = srv.Serve(lis) }()
			stop = func() { _ = srv.Close() }
		case "grpc":
			s := grpc.NewServer()
			healthpb.RegisterHealthServer(s, health.NewServer())
			go func() { _ = s.Serve(lis) }()
			stop = s.Stop
		case "tcp":
			var conns sync.WaitGroup
			go func() {
				for {
					c, err := lis.Accept()
					if err != nil {
						return
					}
					conns.Add(1)
					go func() { defer conns.Done(); _ = c.Close() }()
				}
			}()
			stop = func() { _ = lis.Close(); conns.Wait() }
		default:
			lis.Close()
			return fmt.Errorf("unknown -kind %q", *kind)
		}
		return nil
	}
	if err := up(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /down", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if stop != nil {
			stop()
			stop = nil
		}
		mu.Unlock()
		_, _ = io.WriteString(w, "down\n")
	})
	mux.HandleFunc("POST /up", func(w http.ResponseWriter, r *http.Request) {
		if err := up(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "up\n")
	})
	srv := &http.Server{Addr: *control, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

// LoadReport is what `testapp load` prints when it stops.
type LoadReport struct {
	Sent   int64    `json:"sent"`
	OK     int64    `json:"ok"`
	Failed int64    `json:"failed"`
	Errors []string `json:"errors,omitempty"`
	// AfterTerm counts the requests sent after SIGTERM, and their failures.
	AfterTerm       int64 `json:"afterTerm"`
	FailedAfterTerm int64 `json:"failedAfterTerm"`
}

// runSteady GETs -url at a steady -rate from -workers connections' worth of
// concurrency until -duration has passed, or -after-term after a SIGTERM (an
// app finishing its work while its pod stops), then prints a LoadReport
// as one JSON line. Any answer but 200 is a failure; every failure is also
// printed as it happens, and the exit status is 1 when any failed or none
// succeeded.
func runSteady(args []string) error {
	fs := flag.NewFlagSet("steady", flag.ExitOnError)
	url := fs.String("url", "", "URL to GET")
	rate := fs.Int("rate", 20, "requests a second")
	duration := fs.Duration("duration", 30*time.Second, "how long to send, at most")
	afterTerm := fs.Duration("after-term", 0, "on SIGTERM, keep sending this long, then report and exit")
	waitReady := fs.Duration("wait-ready", 0, "first retry the URL this long until it answers 200, not counted (a proxy that is not a native sidecar may start after the app)")
	_ = fs.Parse(args)
	client := &http.Client{Timeout: 5 * time.Second}
	for deadline := time.Now().Add(*waitReady); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if get(client, *url) == nil {
			break
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var terminated atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		terminated.Store(true)
		fmt.Fprintln(os.Stderr, "SIGTERM: sending on for", *afterTerm)
		time.AfterFunc(*afterTerm, cancel)
	}()

	var (
		rep  LoadReport
		mu   sync.Mutex
		wg   sync.WaitGroup
		tick = time.NewTicker(time.Second / time.Duration(*rate))
	)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		after := terminated.Load()
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := get(client, *url)
			mu.Lock()
			defer mu.Unlock()
			rep.Sent++
			if after {
				rep.AfterTerm++
			}
			if err == nil {
				rep.OK++
				return
			}
			rep.Failed++
			if after {
				rep.FailedAfterTerm++
			}
			msg := fmt.Sprintf("%s: %v", time.Now().Format(time.RFC3339Nano), err)
			fmt.Fprintln(os.Stderr, "failed:", msg)
			if len(rep.Errors) < 20 {
				rep.Errors = append(rep.Errors, msg)
			}
		}()
	}
	wg.Wait()
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return err
	}
	if rep.Failed > 0 || rep.OK == 0 {
		return fmt.Errorf("%d of %d requests failed", rep.Failed, rep.Sent)
	}
	return nil
}

func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}
