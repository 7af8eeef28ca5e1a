package main

import (
	"context"
	"flag"
	"net/http"
	"strings"

	"github.com/planeless/planeless/tests/apps/echo"
)

// runGet GETs a URL (or -X METHOD with -d BODY) and prints an echo.Response; a transport error is
// printed in its Error field (status 0) and still exits 0, so callers
// tell "refused" from "404" by reading the JSON.
func runGet(args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	var hs headerFlags
	fs.Var(&hs, "H", "header key:value (repeatable)")
	method := fs.String("X", http.MethodGet, "request method")
	body := fs.String("d", "", "request body")
	_ = fs.Parse(args)

	headers := http.Header{}
	for _, kv := range hs {
		k, v, _ := strings.Cut(kv, ":")
		headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := do(context.Background(), *method, fs.Arg(0), *body, headers)
	if err != nil {
		resp = echo.Response{Error: err.Error()}
	}
	return printJSON(resp)
}
