package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/clihelp"
	"github.com/spine-sandbox/spine-sandbox/internal/report"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// runCommand is `spine-sandbox run`: load the scenarios under PATH..., run
// them in one in-process sandbox, print the verdicts and write the reports
// asked for. Exit 0 only when every scenario meets its expectations, 1
// otherwise, 2 on a usage error.
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	junit := fs.String("junit", "", "write a JUnit XML report to `FILE`")
	markdown := fs.String("markdown", "", "write a Markdown report with Mermaid sequence diagrams to `FILE`")
	jsonOut := fs.String("json", "", "write a JSON report with the full journal to `FILE`")
	parallel := fs.Int("parallel", 0, "scenarios run at once (default GOMAXPROCS)")
	fixtures := fs.String("fixtures", "fixtures", "`DIR` expect.requests bodies and fault fixtures are read from")
	format := fs.String("format", "text", "text, or github: also print GitHub Actions ::error annotations at each unmet expectation (github.go)")
	verbose := fs.Bool("v", false, "print every scenario's whole sequence of hops, not only the failing ones")
	quiet := fs.Bool("q", false, "print only the failing scenarios (and the summary)")
	useTLS := fs.Bool("tls", false, "run over mutual TLS with a throw-away PKI (the built-in consumer presents the session's certificate, or run.tls.client's); without it scenarios with run.tls are skipped")
	setUsage("run", fs)
	if clihelp.Wants(args) {
		fmt.Fprint(stdout, commandHelp("run", fs))
		return 0
	}
	paths, err := clihelp.Parse(fs, args)
	if err != nil {
		return usageError(err, stderr)
	}
	if len(paths) == 0 {
		fmt.Fprint(stderr, commandHelp("run", fs))
		return 2
	}
	if err := validFormat(*format); err != nil {
		return usageError(err, stderr)
	}
	if *verbose && *quiet {
		fmt.Fprintln(stderr, "spine-sandbox run: -v and -q do not go together")
		return 2
	}
	if *parallel < 0 {
		fmt.Fprintln(stderr, "spine-sandbox run: --parallel must not be negative")
		return 2
	}
	var scenarios []*scenario.Scenario
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil {
			fmt.Fprintln(stderr, "spine-sandbox run:", err)
			return 2
		}
		if st.IsDir() {
			scs, err := scenario.LoadDir(path)
			if err != nil {
				fmt.Fprintln(stderr, "spine-sandbox run:", err)
				return 1
			}
			scenarios = append(scenarios, scs...)
			continue
		}
		sc, err := scenario.LoadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "spine-sandbox run:", err)
			return 1
		}
		scenarios = append(scenarios, sc)
	}
	if len(scenarios) == 0 {
		fmt.Fprintln(stderr, "spine-sandbox run: no scenario files found")
		return 2
	}
	started := time.Now()
	results := runner.Run(ctx, scenarios, runner.Options{Parallel: *parallel, FixtureDir: *fixtures, TLS: *useTLS})
	total := time.Since(started)
	po := runner.PrintOptions{Color: colorOK(stdout, getenv)}
	switch {
	case *verbose:
		po.Verbosity = runner.Verbose
	case *quiet:
		po.Verbosity = runner.Quiet
	}
	runner.PrintWith(stdout, results, total, po)
	if *format == "github" {
		runAnnotations(results, stdout)
	}
	code := 0
	for _, r := range results {
		if r.Failed() {
			code = 1
		}
	}
	reports := []struct {
		file  string
		write func(io.Writer) error
	}{
		{*junit, func(w io.Writer) error { return report.JUnit(w, results, total, started) }},
		{*markdown, func(w io.Writer) error { return report.Markdown(w, results, total) }},
		{*jsonOut, func(w io.Writer) error { return report.JSON(w, results, total) }},
	}
	for _, r := range reports {
		if r.file == "" {
			continue
		}
		var buf bytes.Buffer
		err := r.write(&buf)
		if err == nil {
			err = os.WriteFile(r.file, buf.Bytes(), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "spine-sandbox run:", err)
			code = 1
		}
	}
	return code
}

// colorOK reports whether run's output may be coloured: stdout is a
// terminal (never a CI log, a pipe or a test's buffer) and NO_COLOR is not
// set (no-color.org).
func colorOK(stdout io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := stdout.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && getenv("TERM") != "dumb"
}
