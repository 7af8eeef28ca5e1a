package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// testResult runs one benchmark test of pkg (a test that only runs when
// env names the JSON file it writes) as `go test`, its output in a log
// file under the temporary folder, and decodes what it wrote into v.
func testResult(root, work, pkg, test, env string, quick bool, v any) error {
	name := filepath.Base(pkg)
	file := filepath.Join(work, name+".json")
	logFile := filepath.Join(os.TempDir(), "planeless-bench-"+name+".log")
	log, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command("go", "test", "-count=1", "-timeout", "15m", "-run", "^"+test+"$", "-v", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env+"="+file)
	if quick {
		cmd.Env = append(cmd.Env, "BENCH_QUICK=1")
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go test %s: %w (log: %s)", pkg, err, logFile)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%s wrote no result (skipped? log: %s): %w", test, logFile, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("reading the result of %s: %w", test, err)
	}
	return nil
}
