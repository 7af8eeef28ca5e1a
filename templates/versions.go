package templates

// The versions planeless is released with, written once: everything else
// that names them (the Makefile's Envoy, the images in proxy.yaml and
// init.yaml, the chart's Chart.yaml and values.yaml) is read from here or
// tested against it.
const (
	// EnvoyVersion is the Envoy release planeless renders bootstraps for,
	// tests against (the Makefile installs this version) and ships as the
	// default proxy image.
	EnvoyVersion = "1.40.0"

	// Version is the planeless release: the tag of its image (the webhook
	// and the init container), the chart's version and appVersion.
	Version = "0.1.0"
)

// The default images, from the versions.
const (
	ProxyImage = "envoyproxy/envoy:v" + EnvoyVersion
	Image      = "ghcr.io/planeless/planeless:v" + Version
)
