package inject

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/iptables"
	"github.com/planeless/planeless/proxy"
)

// ValidateUID is the user the CNI-mode check runs as when it checks the
// outbound redirection: any user but the proxy's, whose connections the
// rules never redirect (nobody, as Linkerd's validator).
const ValidateUID = 65534

// validateContainer is the init container of CNI mode: `planeless
// validate`, unprivileged, with the flags the init container would get.
// It proves the node's CNI plugin redirected the pod's traffic (it fails,
// and the kubelet retries it, until it has: no container of the pod runs
// unproxied) and copies the binary the proxy's preStop hook runs.
func (i *Injector) validateContainer(s *proxy.Spec) corev1.Container {
	c := *i.Templates.Init.DeepCopy()
	c.Name = ValidateName
	c.Command = []string{"planeless", "validate"}
	c.Args = append(iptables.FromSpec(s).Args(), "--copy-to="+ProxyHelper)
	// Its message is what `kubectl describe` shows when it fails.
	c.TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
	uid, gid := validateUser(s)
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	sc.RunAsUser = ptr(uid)
	sc.RunAsGroup = ptr(gid)
	sc.RunAsNonRoot = ptr(true)
	sc.Privileged = ptr(false)
	sc.ReadOnlyRootFilesystem = ptr(true)
	sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	restricted(sc)
	c.SecurityContext = sc
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: BinVolume, MountPath: BinDir})
	return c
}

// validateUser is who the check runs as. The outbound redirection is seen
// from a user the rules redirect; without egress capture, the inbound one
// only from the proxy's user (its calls to the pod's own address on an
// intercepted port go to the inbound listener).
func validateUser(s *proxy.Spec) (uid, gid int64) {
	if !s.Egress {
		return s.Proxy.UID, s.Proxy.GID
	}
	uid, gid = ValidateUID, ValidateUID
	for uid == s.Proxy.UID || uid == s.Proxy.GID || gid == s.Proxy.GID || gid == s.Proxy.UID {
		uid, gid = uid-1, gid-1
	}
	return uid, gid
}

// restricted sets what Pod Security's restricted profile asks of every
// container that the templates may have left out.
func restricted(sc *corev1.SecurityContext) {
	sc.AllowPrivilegeEscalation = ptr(false)
	if sc.SeccompProfile == nil {
		sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	}
}

// cniVolumes are the volumes of a CNI-mode pod: no xtables lock, nothing
// in the pod touches iptables.
func cniVolumes() []corev1.Volume {
	return []corev1.Volume{bootstrapVolume(), memoryVolume(AdminVolume), memoryVolume(BinVolume)}
}

func volumeNames(volumes []corev1.Volume) []string {
	names := make([]string, len(volumes))
	for i, v := range volumes {
		names[i] = v.Name
	}
	return names
}
