package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/planeless/planeless/tests/apps/echo"
)

// runLoad sends -n GET requests to a URL, -c at a time (at most -rate a
// second), with the -H headers, and prints an echo.Load: how many got each status (0: no
// response), how many each server answered (the echo reply's server
// field), and how many took -slow or longer.
func runLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	n := fs.Int("n", 1000, "requests")
	c := fs.Int("c", 8, "requests at a time")
	slow := fs.Duration("slow", 0, "count the requests that take at least this long")
	rate := fs.Float64("rate", 0, "send at most this many requests per second, evenly (0: as fast as -c allows)")
	var hs headerFlags
	fs.Var(&hs, "H", "header key:value (repeatable)")
	_ = fs.Parse(args)
	url := fs.Arg(0)

	var (
		mu     sync.Mutex
		report = echo.Load{Statuses: map[int]int{}, Servers: map[string]int{}}
		wg     sync.WaitGroup
		next   = make(chan struct{})
	)
	transport := &http.Transport{MaxIdleConnsPerHost: *c}
	loader := &http.Client{Transport: transport, Timeout: client.Timeout}
	for range *c {
		wg.Go(func() {
			for range next {
				status, server := 0, ""
				start := time.Now()
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
				if err == nil {
					for _, kv := range hs {
						k, v, _ := strings.Cut(kv, ":")
						req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
					}
					if resp, err := loader.Do(req); err == nil {
						status = resp.StatusCode
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						var got echo.Request
						if json.Unmarshal(body, &got) == nil {
							server = got.Server
						}
					}
				}
				took := time.Since(start)
				mu.Lock()
				report.Requests++
				report.Statuses[status]++
				report.Servers[server]++
				if *slow > 0 && took >= *slow {
					report.Slow++
				}
				mu.Unlock()
			}
		})
	}
	var tick <-chan time.Time
	if *rate > 0 {
		ticker := time.NewTicker(time.Duration(float64(time.Second) / *rate))
		defer ticker.Stop()
		tick = ticker.C
	}
	for range *n {
		if tick != nil {
			<-tick
		}
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	return printJSON(report)
}
