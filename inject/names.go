package inject

import "time"

// Names of what the injector adds to a pod.
const (
	InitName = "planeless-init"
	// ValidateName is the unprivileged init container of CNI mode, which
	// checks that the node's plugin redirected the pod's traffic.
	ValidateName    = "planeless-validate"
	ProxyName       = "planeless-proxy"
	BootstrapVolume = "planeless-bootstrap"
	XtablesVolume   = "planeless-xtables"
	// AdminVolume holds Envoy's admin socket (bootstrap.AdminSocket); only
	// the proxy mounts it.
	AdminVolume = "planeless-admin"
	// BinVolume carries the planeless binary from the init container to
	// the proxy, whose hooks run it (ProxyHelper): `planeless wait` after
	// it starts, `planeless drain` before it stops. The official Envoy
	// image has no client for the admin socket.
	BinVolume   = "planeless-bin"
	BinDir      = "/run/planeless-bin"
	ProxyHelper = BinDir + "/planeless"

	// BootstrapDir is where the downward API volume holding the bootstrap
	// annotation is mounted in the proxy.
	BootstrapDir  = "/etc/planeless"
	BootstrapFile = "bootstrap.json"

	// StatsPortName names the stats listener's container port.
	StatsPortName = "planeless-stats"
)

// StartTimeout is how long a native sidecar's postStart hook waits for
// Envoy to be ready before failing, which makes the kubelet restart it
// (as the startup probe it replaces failed after 60 tries, 1 s apart).
const StartTimeout = time.Minute

// Prometheus scrape annotations, set unless the pod already has its own.
const (
	annotationScrape = "prometheus.io/scrape"
	annotationPort   = "prometheus.io/port"
	annotationPath   = "prometheus.io/path"

	annotationDefaultContainer = "kubectl.kubernetes.io/default-container"
)
