// Package templates holds the default specs of the containers planeless adds
// to a pod (image, resources, security context) as YAML that a cluster
// operator can override without rebuilding: the webhook's --templates flag
// points at a folder (the chart mounts one from its values) whose files
// replace the embedded ones. It never holds Envoy configuration or patches.
package templates
