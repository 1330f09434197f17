package spinesandbox_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	spinesandbox "github.com/spine-sandbox/spine-sandbox"
)

// A program (or TestMain) runs a sandbox with New and stops it with Close;
// a test would call Start(t) instead. Book makes the sandbox's own reference
// consumer do the whole journey; the verdict judges the journal against the
// scenario's expectations.
func Example() {
	sb, err := spinesandbox.New(spinesandbox.WithScenarioFile("scenarios/happy-path.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()

	b, err := sb.Book(context.Background(), "9693632109")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("booked at", b.ODS)
	v := sb.Verdict()
	fmt.Println("passed:", v.Passed, "outcome:", v.Outcome)
	for _, h := range sb.Journal()[:2] {
		fmt.Println(h.From, "->", h.To, h.Name, h.Status)
	}
	// Output:
	// booked at A20047
	// passed: true outcome: booked
	// consumer -> pds pds.retrieve 200
	// consumer -> sds sds.endpoint 200
}

// The base URLs are what a consumer under test is configured with; they
// answer plain HTTP on 127.0.0.1.
func ExampleSandbox_PDSURL() {
	sb, err := spinesandbox.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()

	req, _ := http.NewRequest("GET", sb.PDSURL()+"/Patient/9693632109", nil)
	req.Header.Set("X-Request-ID", "60e0b220-8136-4ac5-8a8b-6f5c3b9a2e11")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, strings.Contains(string(body), "GARTON"))
	fmt.Println("consumer ASID:", sb.Consumer().ASID)
	// Output:
	// 200 true
	// consumer ASID: 200000000115
}

// A scenario can be given inline; here PDS fails for the session.
func ExampleWithScenarioYAML() {
	sb, err := spinesandbox.New(spinesandbox.WithScenarioYAML([]byte(`
name: flaky pds
extends: builtin
faults:
  - {hop: pds, status: 503}
`)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()
	_, err = sb.Book(context.Background(), "9693632109")
	fmt.Println(err != nil, sb.Verdict().Outcome)
	// Output:
	// true error pds 503 INTERNAL_SERVER_ERROR
}
