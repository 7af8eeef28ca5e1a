package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
)

// runFlood sends -n GET requests to a URL, -c at a time, each with a
// random Host (-random-host), random values of the -random-header headers
// and every {rand} of the URL replaced by a random value, and prints how
// many got each status (0: no response).
func runFlood(args []string) error {
	fs := flag.NewFlagSet("flood", flag.ExitOnError)
	n := fs.Int("n", 1000, "requests")
	c := fs.Int("c", 8, "requests at a time")
	randomHost := fs.Bool("random-host", false, "send each request with a random Host header (the connection still goes to the URL's host)")
	var randomHeaders headerFlags
	fs.Var(&randomHeaders, "random-header", "header name to send with a random value (repeatable)")
	_ = fs.Parse(args)
	url := fs.Arg(0)

	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		wg       sync.WaitGroup
		next     = make(chan int)
	)
	transport := &http.Transport{MaxIdleConnsPerHost: *c}
	flooder := &http.Client{Transport: transport, Timeout: client.Timeout}
	for range *c {
		wg.Go(func() {
			for i := range next {
				status := 0
				u := strings.ReplaceAll(url, "{rand}", fmt.Sprintf("%d-%x", i, rand.Uint32()))
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
				if err == nil {
					if *randomHost {
						req.Host = fmt.Sprintf("h%d-%x.example:%d", i, rand.Uint32(), 1+rand.IntN(65535))
					}
					for _, h := range randomHeaders {
						req.Header.Set(h, fmt.Sprintf("w%d-%x.ns%x", i, rand.Uint32(), rand.Uint32()))
					}
					if resp, err := flooder.Do(req); err == nil {
						status = resp.StatusCode
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}
	for i := range *n {
		next <- i
	}
	close(next)
	wg.Wait()
	return printJSON(statuses)
}
