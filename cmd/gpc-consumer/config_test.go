package main

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/spine-sandbox/spine-sandbox/internal/assert"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func files(m map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if s, ok := m[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		files   map[string]string
		check   func(t *testing.T, o *options)
		wantErr string // "" = success; usage errors are errUsage
		usage   bool
	}{
		{name: "defaults point at spine-sandbox serve", args: []string{"book", "--nhs-number", "9693632109"},
			check: func(t *testing.T, o *options) {
				assert.Equal(t, o.PDS, defaultPDS, "pds")
				assert.Equal(t, o.SDS, defaultSDS, "sds")
				assert.Equal(t, o.SSP, defaultSSP, "ssp")
				assert.Equal(t, o.ASID, "200000000115", "asid")
				assert.Equal(t, o.ODSSelf, "A1001", "ods-self")
				assert.Equal(t, o.Timeout, 10*time.Second, "timeout")
				assert.Equal(t, o.JSON, false, "json")
			}},
		{name: "flags", args: []string{"book", "--nhs-number=9733162043", "--ods", "Y12345", "--from", "2030-01-07", "--to", "2030-01-20",
			"--pds", "http://p", "--sds", "http://s", "--ssp", "http://x/", "--asid", "123456789012", "--json", "--timeout", "3s",
			"--practitioner-given", "Ann, Marie"},
			check: func(t *testing.T, o *options) {
				assert.Equal(t, o.NHSNumber, "9733162043", "nhs")
				assert.Equal(t, o.ODS, "Y12345", "ods")
				assert.Equal(t, o.From, day("2030-01-07"), "from")
				assert.Equal(t, o.To, day("2030-01-20"), "to")
				assert.Equal(t, o.PDS+o.SDS+o.SSP, "http://phttp://shttp://x/", "urls")
				assert.Equal(t, o.ASID, "123456789012", "asid")
				assert.Equal(t, o.JSON, true, "json")
				assert.Equal(t, o.Timeout, 3*time.Second, "timeout")
				assert.DeepEqual(t, o.PractGiven, []string{"Ann", "Marie"}, "given")
			}},
		{name: "environment beats the file, flags beat the environment",
			args:  []string{"slots", "--nhs-number", "9693632109", "--config", "c.yaml", "--sds", "http://flag"},
			env:   map[string]string{"GPC_PDS": "http://env-pds", "GPC_SDS": "http://env-sds"},
			files: map[string]string{"c.yaml": "pds: http://file-pds\nssp: http://file-ssp/\nasid: \"012345678901\"\n"},
			check: func(t *testing.T, o *options) {
				assert.Equal(t, o.PDS, "http://env-pds", "pds from env")
				assert.Equal(t, o.SDS, "http://flag", "sds from flag")
				assert.Equal(t, o.SSP, "http://file-ssp/", "ssp from file")
				assert.Equal(t, o.ASID, "012345678901", "asid keeps its leading zero")
			}},
		{name: "JSON config via GPC_CONFIG", args: []string{"book", "--nhs-number", "9693632109"},
			env:   map[string]string{"GPC_CONFIG": "c.json"},
			files: map[string]string{"c.json": `{"org_name":"Hub","practitioner_id":"77"}`},
			check: func(t *testing.T, o *options) {
				assert.Equal(t, o.OrgName, "Hub", "org name")
				assert.Equal(t, o.PractID, "77", "practitioner")
			}},
		{name: "cancel with a practice needs no NHS number", args: []string{"cancel", "--ods", "A20047", "--id", "3", "--reason", "better"},
			check: func(t *testing.T, o *options) { assert.Equal(t, o.ID, "3", "id") }},
		{name: "no command", args: nil, wantErr: "missing command", usage: true},
		{name: "flag first", args: []string{"--nhs-number", "1"}, wantErr: "missing command", usage: true},
		{name: "unknown command", args: []string{"bok"}, wantErr: `unknown command "bok"`, usage: true},
		{name: "unknown flag", args: []string{"book", "--nhs", "1"}, wantErr: "flag provided but not defined: -nhs", usage: true},
		{name: "no NHS number", args: []string{"book"}, wantErr: "book needs --nhs-number", usage: true},
		{name: "bad date", args: []string{"book", "--nhs-number", "9693632109", "--from", "7/1/2030"}, wantErr: `--from "7/1/2030" is not a date`, usage: true},
		{name: "to before from", args: []string{"book", "--nhs-number", "9693632109", "--from", "2030-01-07", "--to", "2030-01-01"}, wantErr: "is before", usage: true},
		{name: "cert without key", args: []string{"book", "--nhs-number", "9693632109", "--cert", "c.pem"}, wantErr: "--cert and --key go together", usage: true},
		{name: "amend needs a change", args: []string{"amend", "--nhs-number", "9693632109", "--id", "1"}, wantErr: "amend needs --description or --comment", usage: true},
		{name: "cancel needs an id", args: []string{"cancel", "--nhs-number", "9693632109"}, wantErr: "cancel needs --id", usage: true},
		{name: "stray argument", args: []string{"book", "--nhs-number", "9693632109", "now"}, wantErr: `unexpected argument "now"`, usage: true},
		{name: "description too long", args: []string{"book", "--nhs-number", "9693632109", "--description", strings.Repeat("x", 101)}, wantErr: "longer than 100", usage: true},
		{name: "missing config file", args: []string{"book", "--nhs-number", "9693632109", "--config", "nope.yaml"}, wantErr: "config: file does not exist"},
		{name: "unknown config key", args: []string{"book", "--nhs-number", "9693632109", "--config", "c.yaml"},
			files: map[string]string{"c.yaml": "pdss: x\n"}, wantErr: "field pdss not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseConfig(tt.args, env(tt.env), files(tt.files))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got no error, want %q", tt.wantErr)
				}
				assert.Contains(t, err.Error(), tt.wantErr, "error")
				var u errUsage
				assert.Equal(t, errors.As(err, &u), tt.usage, "usage error")
				return
			}
			assert.NilError(t, err)
			tt.check(t, o)
		})
	}
}

func TestMainUsageExits2(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := Main([]string{"book"}, env(nil), &out, &errb)
	assert.Equal(t, code, 2, "exit code")
	assert.Contains(t, errb.String(), "book needs --nhs-number", "message")
	assert.Contains(t, errb.String(), "usage: gpc-consumer", "usage")
	assert.Equal(t, out.String(), "", "stdout")
}

func TestMainRuntimeErrorExits1(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	// Modulus 11 fails before any call, so no server is needed.
	code := Main([]string{"book", "--nhs-number", "9000000000", "--json"}, env(nil), &out, &errb)
	assert.Equal(t, code, 1, "exit code")
	assert.Contains(t, out.String(), `"ok": false`, "json result")
	assert.Contains(t, out.String(), `"kind": "invalid NHS number"`, "kind")
	assert.Contains(t, out.String(), `"hop": "pds"`, "hop")
}
