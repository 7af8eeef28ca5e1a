package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// runFlood sends -n GET requests to a URL, -c at a time, each with a
// Host made from the -host template, random values of the -random-header headers
// and every {rand} of the URL replaced by a random value, and prints how
// many got each status (0: no response).
func runFlood(args []string) error {
	fs := flag.NewFlagSet("flood", flag.ExitOnError)
	n := fs.Int("n", 1000, "requests")
	c := fs.Int("c", 8, "requests at a time")
	host := fs.String("host", "", "send each request with this Host header, every {rand} replaced by a random value and {port} by a random port (the connection still goes to the URL's host)")
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
					if *host != "" {
						req.Host = strings.NewReplacer(
							"{rand}", fmt.Sprintf("%d-%x", i, rand.Uint32()),
							"{port}", strconv.Itoa(1+rand.IntN(65535)),
						).Replace(*host)
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
