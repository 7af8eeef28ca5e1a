package inject

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/iptables"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/templates"
)

// Injector adds planeless to pods.
type Injector struct {
	Defaults  proxy.Defaults
	Templates templates.Set
	// Bootstraps, when set, renders each pod shape's bootstrap once (the
	// webhook's); nil renders every pod's.
	Bootstraps *bootstrap.Cache
}

// New returns an Injector with the built-in defaults and templates.
func New() *Injector {
	return &Injector{Defaults: proxy.DefaultDefaults(), Templates: templates.Default()}
}

// Result says what Inject did.
type Result struct {
	// Skipped is why the pod was left unchanged; empty when it was injected.
	Skipped string
	// Warnings are soft problems to show the user (admission warnings).
	Warnings []string
	// Pod is the pod's name, or its generateName when it has none, for
	// logs (Patch sets it once it has read the pod).
	Pod string
}

// Skip reasons.
const (
	SkipHostNetwork = "pod uses the host network"
	SkipOptedOut    = "pod opted out with " + proxy.AnnotationInject + ": \"false\""
	SkipInjected    = "pod is already injected"
)

// SkipReason returns why the pod must not be touched, or "".
func SkipReason(pod *corev1.Pod) string {
	switch {
	case pod.Spec.HostNetwork:
		return SkipHostNetwork
	case proxy.InjectionDisabled(pod):
		return SkipOptedOut
	case Injected(pod):
		return SkipInjected
	}
	return ""
}

// Inject adds the init container, the proxy and their volumes and
// annotations to pod, in place. A pod that must not be touched comes back
// unchanged with Result.Skipped set; a pod with invalid annotations, or
// asking for more than the bounds allow, comes back unchanged with an error
// naming each problem. A pod without a namespace is placed in
// DefaultNamespace.
func (i *Injector) Inject(pod *corev1.Pod) (Result, error) {
	if pod.Namespace == "" {
		pod.Namespace = DefaultNamespace
		defer func() { pod.Namespace = "" }()
	}
	res, _, err := i.inject(context.Background(), pod)
	return res, err
}

// inject is Inject, stopping with ctx's error between its steps; it also
// returns the Status it recorded: what it added.
func (i *Injector) inject(ctx context.Context, pod *corev1.Pod) (Result, Status, error) {
	if reason := SkipReason(pod); reason != "" {
		return Result{Skipped: reason}, Status{}, nil
	}
	s, warnings, err := proxy.FromPod(pod, i.Defaults)
	if err != nil {
		return Result{Warnings: warnings}, Status{}, err
	}
	// A pod whose annotations leave no room is refused before rendering;
	// then the rendered size is checked, exactly.
	budget := bootstrapBudget(pod)
	if budget <= 0 {
		return Result{Warnings: warnings}, Status{}, tooLarge(0, budget)
	}
	if err := ctx.Err(); err != nil {
		return Result{Warnings: warnings}, Status{}, err
	}
	config, err := i.Bootstraps.Render(s)
	if err != nil {
		return Result{Warnings: warnings}, Status{}, fmt.Errorf("rendering the bootstrap: %w", err)
	}
	if len(config) > budget {
		return Result{Warnings: warnings}, Status{}, tooLarge(len(config), budget)
	}

	// In CNI mode the node's plugin installed the rules before any
	// container: an unprivileged check takes the init container's place.
	initC := i.initContainer(s)
	volumes := []corev1.Volume{bootstrapVolume(), xtablesVolume(), memoryVolume(AdminVolume), memoryVolume(BinVolume)}
	if i.Defaults.CNI {
		initC, volumes = i.validateContainer(s), cniVolumes()
	}
	sidecar := i.proxyContainer(s)
	probes, probeWarnings := rewriteProbes(pod, s)
	warnings = append(warnings, probeWarnings...)
	status := Status{Version: templates.Version, Volumes: volumeNames(volumes), Probes: probes}
	if s.Proxy.NativeSidecar {
		// The rules and the proxy come first, so that the user's own init
		// containers already have a ready proxy behind the rules.
		pod.Spec.InitContainers = slices.Insert(pod.Spec.InitContainers, 0, initC, sidecar)
		status.InitContainers = []string{initC.Name, ProxyName}
	} else if i.Defaults.CNI {
		// The rules are there before any container: the check comes first,
		// so that nothing runs before it.
		pod.Spec.InitContainers = slices.Insert(pod.Spec.InitContainers, 0, initC)
		pod.Spec.Containers = slices.Insert(pod.Spec.Containers, 0, sidecar)
		status.InitContainers = []string{initC.Name}
		status.Containers = []string{ProxyName}
	} else {
		// Without native sidecars nothing would serve the redirected
		// traffic of the user's init containers: install the rules last.
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, initC)
		pod.Spec.Containers = slices.Insert(pod.Spec.Containers, 0, sidecar)
		status.InitContainers = []string{initC.Name}
		status.Containers = []string{ProxyName}
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, volumes...)

	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	had := maps.Clone(pod.Annotations)
	warnings = append(warnings, annotateScrape(pod.Annotations, s)...)
	if grace := gracePeriod(pod); s.Proxy.DrainSeconds > 0 && int64(s.Proxy.DrainSeconds) >= grace {
		warnings = append(warnings, fmt.Sprintf(
			"%sdrain-seconds is %d but the pod's terminationGracePeriodSeconds is %d: the kubelet kills the proxy before its drain ends",
			proxy.Prefix, s.Proxy.DrainSeconds, grace))
	}
	if !s.Proxy.NativeSidecar && len(pod.Spec.Containers) > 1 {
		if _, ok := pod.Annotations[annotationDefaultContainer]; !ok {
			pod.Annotations[annotationDefaultContainer] = pod.Spec.Containers[1].Name
		}
	}
	pod.Annotations[proxy.AnnotationBootstrap] = config
	status.Annotations = addedKeys(had, pod.Annotations)
	pod.Annotations[proxy.AnnotationStatus] = status.encode()
	return Result{Warnings: warnings}, status, nil
}

// annotateScrape points prometheus.io/* at the stats listener, unless the
// user set any of them: theirs win, and they hear about it.
func annotateScrape(a map[string]string, s *proxy.Spec) []string {
	own := slices.Sorted(maps.Keys(a))
	own = slices.DeleteFunc(own, func(k string) bool { return !strings.HasPrefix(k, "prometheus.io/") })
	if len(own) > 0 {
		return []string{fmt.Sprintf(
			"pod sets %s, so planeless leaves the prometheus.io annotations alone; the proxy's metrics are on port %d, path %s",
			strings.Join(own, ", "), s.Proxy.Ports.Stats, bootstrap.PrometheusPath)}
	}
	a[annotationScrape] = "true"
	a[annotationPort] = strconv.Itoa(int(s.Proxy.Ports.Stats))
	a[annotationPath] = bootstrap.PrometheusPath
	return nil
}

func (i *Injector) initContainer(s *proxy.Spec) corev1.Container {
	c := *i.Templates.Init.DeepCopy()
	c.Name = InitName
	c.Command = []string{"planeless-pod", "init"}
	c.Args = append(iptables.FromSpec(s).Args(), "--copy-to="+ProxyHelper)
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	// The kernel only takes rules from root with NET_ADMIN and NET_RAW;
	// saying so explicitly overrides a pod-wide runAsNonRoot or runAsUser.
	sc.RunAsUser = ptr(int64(0))
	sc.RunAsGroup = ptr(int64(0))
	sc.RunAsNonRoot = ptr(false)
	sc.Privileged = ptr(false)
	sc.AllowPrivilegeEscalation = ptr(false)
	sc.Capabilities = &corev1.Capabilities{
		Add:  []corev1.Capability{"NET_ADMIN", "NET_RAW"},
		Drop: []corev1.Capability{"ALL"},
	}
	c.SecurityContext = sc
	// iptables-legacy takes a lock in /run; the root filesystem is read-only.
	c.VolumeMounts = append(c.VolumeMounts,
		corev1.VolumeMount{Name: XtablesVolume, MountPath: "/run"},
		corev1.VolumeMount{Name: BinVolume, MountPath: BinDir},
	)
	return c
}

func (i *Injector) proxyContainer(s *proxy.Spec) corev1.Container {
	c := *i.Templates.Proxy.DeepCopy()
	c.Name = ProxyName
	if s.Proxy.Image != "" {
		c.Image = s.Proxy.Image
	}
	c.Command = []string{"envoy"}
	c.Args = []string{
		"-c", BootstrapDir + "/" + BootstrapFile,
		"--service-node", "$(POD_NAME).$(POD_NAMESPACE)",
		"--concurrency", strconv.Itoa(s.Proxy.Concurrency),
		"--log-level", s.Proxy.LogLevel,
		"--drain-time-s", strconv.Itoa(s.Proxy.DrainSeconds),
		"--drain-strategy", "immediate",
		// Access logs reach kubectl logs within a second, not Envoy's 10.
		"--file-flush-interval-msec", "1000",
		"--disable-hot-restart",
	}
	c.Env = append(c.Env,
		fieldEnv("POD_NAME", "metadata.name"),
		fieldEnv("POD_NAMESPACE", "metadata.namespace"),
		fieldEnv("POD_IP", "status.podIP"),
	)
	c.Ports = append(c.Ports, corev1.ContainerPort{
		Name: StatsPortName, ContainerPort: int32(s.Proxy.Ports.Stats), Protocol: corev1.ProtocolTCP,
	})
	mergeResources(&c.Resources, s.Proxy.Resources)

	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	sc.RunAsUser = ptr(s.Proxy.UID)
	sc.RunAsGroup = ptr(s.Proxy.GID)
	sc.RunAsNonRoot = ptr(true)
	sc.Privileged = ptr(false)
	sc.AllowPrivilegeEscalation = ptr(false)
	sc.ReadOnlyRootFilesystem = ptr(true)
	sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	if i.Defaults.CNI {
		restricted(sc)
	}
	c.SecurityContext = sc

	c.VolumeMounts = append(c.VolumeMounts,
		corev1.VolumeMount{Name: BootstrapVolume, MountPath: BootstrapDir, ReadOnly: true},
		corev1.VolumeMount{Name: AdminVolume, MountPath: bootstrap.AdminDir},
		corev1.VolumeMount{Name: BinVolume, MountPath: BinDir, ReadOnly: true},
	)

	ready := &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: bootstrap.ReadyPath, Port: intOrString(s.Proxy.Ports.Stats),
		}},
		PeriodSeconds:    1,
		FailureThreshold: 3,
	}
	c.ReadinessProbe = ready
	// Envoy exits at once on SIGTERM. The kubelet runs this hook as the pod
	// starts terminating and sends SIGTERM only after it: `planeless drain`
	// (copied in by the init container) tells Envoy to drain its inbound
	// connections, so clients go to other endpoints, and keeps it serving
	// for drain-seconds (as a native sidecar it also outlives the app).
	if s.Proxy.DrainSeconds > 0 {
		if c.Lifecycle == nil {
			c.Lifecycle = &corev1.Lifecycle{}
		}
		if c.Lifecycle.PreStop == nil {
			c.Lifecycle.PreStop = &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{
				ProxyHelper, "drain", "--admin-socket=" + bootstrap.AdminSocket, "--seconds=" + strconv.Itoa(s.Proxy.DrainSeconds),
			}}}
		}
	}
	// As a native sidecar, the proxy holds the pod's next containers back
	// until its postStart hook returns: `planeless wait` returns as soon as
	// Envoy is ready (a startup probe would make the application wait for
	// the probe's next 1 s tick, often two), and fails after StartTimeout,
	// when the kubelet restarts the proxy.
	if s.Proxy.NativeSidecar {
		c.RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
		if c.Lifecycle == nil {
			c.Lifecycle = &corev1.Lifecycle{}
		}
		if c.Lifecycle.PostStart == nil {
			c.Lifecycle.PostStart = &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{
				ProxyHelper, "wait", "--admin-socket=" + bootstrap.AdminSocket, "--timeout=" + StartTimeout.String(),
			}}}
		}
	}
	return c
}

func mergeResources(dst *corev1.ResourceRequirements, override corev1.ResourceRequirements) {
	for _, pair := range []struct {
		dst  *corev1.ResourceList
		from corev1.ResourceList
	}{{&dst.Requests, override.Requests}, {&dst.Limits, override.Limits}} {
		if len(pair.from) == 0 {
			continue
		}
		if *pair.dst == nil {
			*pair.dst = corev1.ResourceList{}
		}
		maps.Copy(*pair.dst, pair.from)
	}
}

func bootstrapVolume() corev1.Volume {
	return corev1.Volume{
		Name: BootstrapVolume,
		VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
			Items: []corev1.DownwardAPIVolumeFile{{
				Path:     BootstrapFile,
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + proxy.AnnotationBootstrap + "']"},
			}},
		}},
	}
}

func xtablesVolume() corev1.Volume { return memoryVolume(XtablesVolume) }

func memoryVolume(name string) corev1.Volume {
	return corev1.Volume{
		Name:         name,
		VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}},
	}
}

// gracePeriod is the pod's terminationGracePeriodSeconds, or the API's
// default of 30.
func gracePeriod(pod *corev1.Pod) int64 {
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return *g
	}
	return 30
}
