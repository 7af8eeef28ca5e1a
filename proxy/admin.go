package proxy

// Where the proxy's admin interface is, for the bootstrap that puts it
// there and for the commands that reach it from inside the pod (`wait`,
// `drain`), which must not need the bootstrap's dependencies.
const (
	// AdminDir is the emptyDir only the proxy container mounts; Envoy's
	// admin interface is a Unix socket in it (AdminSocket).
	AdminDir    = "/run/planeless-admin"
	AdminSocket = AdminDir + "/admin.sock"
	// ReadyPath is Envoy's readiness endpoint on the admin interface.
	ReadyPath = "/ready"
)
