package sandbox

// The admin API's request and answer types that have no home of their
// own; docs/admin-api.yaml names them (x-go-type) and its test decodes its
// examples into them.

// SessionRequest is the JSON body of POST /_admin/sessions and PUT
// /_admin/sessions/{id}: a scenario of the scenario folder by name, the
// session's id (POST), and lenient checks.
type SessionRequest struct {
	Scenario string `json:"scenario"`
	ID       string `json:"id"`
	Lenient  bool   `json:"lenient"`
}

// Health is GET /_admin/health: "ok", or "draining" (503).
type Health struct {
	Status   string `json:"status"`
	Sessions int    `json:"sessions"`
}

// RunStarted is POST /_admin/sessions/{id}/run's 202.
type RunStarted struct {
	Session string `json:"session"`
	Status  string `json:"status"`
	Events  string `json:"events"`
}
