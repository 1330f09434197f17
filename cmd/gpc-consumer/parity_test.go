package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
	"github.com/spine-sandbox/spine-sandbox/internal/journal"
	"github.com/spine-sandbox/spine-sandbox/internal/runner"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox"
	"github.com/spine-sandbox/spine-sandbox/internal/sandbox/sandboxtest"
	"github.com/spine-sandbox/spine-sandbox/internal/scenario"
)

// TestRunnerAndCommandMakeTheSameJourney: for each action, the runner
// (doing a library scenario's run:) and gpc-consumer (given the same
// action and options as flags) make the same requests — methods, paths
// and queries, interactions, statuses, in order — each in its own session
// of one sandbox with the scenario's world. Both call consumer.Session.Do,
// so this holds as long as neither front end does business of its own.
func TestRunnerAndCommandMakeTheSameJourney(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, "")
	date := func(ss *sandbox.Session, days int) string {
		return ss.World.Now().AddDate(0, 0, days).Format(time.DateOnly)
	}
	cases := []struct {
		file   string
		action string // replaces the file's run.action when not ""
		args   func(ss *sandbox.Session) []string
	}{
		{"happy-path.yaml", "", func(ss *sandbox.Session) []string {
			return []string{"book", "--nhs-number", "9693632109", "--from", date(ss, 1), "--to", date(ss, 8)}
		}},
		{"no-slots.yaml", "", func(ss *sandbox.Session) []string {
			return []string{"book", "--nhs-number", "9693632109", "--from", date(ss, 1), "--to", date(ss, 8), "--windows", "2"}
		}},
		{"action-slots.yaml", "", func(ss *sandbox.Session) []string {
			return []string{"slots", "--nhs-number", "9693632109", "--from", date(ss, 1), "--to", date(ss, 8)}
		}},
		{"action-appointments.yaml", "", func(ss *sandbox.Session) []string {
			return []string{"appointments", "--nhs-number", "9693632109", "--from", date(ss, 0), "--to", date(ss, 8)}
		}},
		{"action-amend-existing.yaml", "", func(ss *sandbox.Session) []string {
			return []string{"amend", "--nhs-number", "9693632109", "--id", "90",
				"--description", "Blood pressure review (bring your readings)", "--comment", "Patient asked for a longer slot"}
		}},
		{"action-amend-existing.yaml", "cancel", func(ss *sandbox.Session) []string {
			return []string{"cancel", "--nhs-number", "9693632109", "--id", "90"}
		}},
	}
	for _, c := range cases {
		name := c.file + " " + c.action
		sc, err := scenario.LoadFile(filepath.Join("..", "..", "scenarios", c.file))
		assert.NilError(t, err)
		if c.action != "" {
			sc.Run.Action = scenario.Enum(c.action)
		}

		byRunner, err := sb.Server.CreateSession("", sc)
		assert.NilError(t, err)
		assert.NilError(t, runner.RunSession(context.Background(), byRunner))

		byCommand, err := sb.Server.CreateSession("", sc)
		assert.NilError(t, err)
		me, u := byCommand.World.Consumer(), byCommand.URLs()
		args := append(c.args(byCommand), "--pds", u.PDS, "--sds", u.SDS, "--ssp", u.SSP, "--asid", me.ASID, "--ods-self", me.ODS)
		var out, errb bytes.Buffer
		Main(args, env(nil), &out, &errb)

		want, got := journey(byRunner), journey(byCommand)
		if len(want) < 4 {
			t.Errorf("%s: the runner's journey is too short to prove anything: %q", name, want)
		}
		t.Log(strings.Join(want, "\n"))
		assert.DeepEqual(t, got, want, name+": gpc-consumer's journey vs the runner's; stderr: "+errb.String())
	}
}

// journey is what the consumer asked of Spine in ss, in order: method,
// service, URL (the session's own prefix made neutral), interaction and
// status of every request it sent.
func journey(ss *sandbox.Session) []string {
	var out []string
	for _, h := range journal.InStartOrder(ss.Journal.Hops()) {
		if h.From != journal.Consumer {
			continue
		}
		u := strings.ReplaceAll(h.URL, ss.Prefix, "{session}")
		out = append(out, fmt.Sprintf("%s %s %s %s → %d", h.Method, h.To, u, h.Interaction, h.Status))
	}
	return out
}
