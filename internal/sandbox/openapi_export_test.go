package sandbox

import "github.com/gorilla/mux"

// AdminRouter is the admin API's router, for the test that walks it
// against docs/admin-api.yaml.
func AdminRouter(s *Server) *mux.Router { return s.adminRoutes().(*mux.Router) }
