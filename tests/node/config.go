package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/planeless/planeless/tests/node/images"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func token() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// writeConfigs writes the tokens, the kubeconfigs and each daemon's
// configuration into the node's folder.
func (c *Cluster) writeConfigs() error {
	ca, err := os.ReadFile(c.path("pki", "ca.crt"))
	if err != nil {
		return err
	}
	// Who each component is to the API server (a static token each).
	users := []struct{ file, user, groups string }{
		{"kubeconfig", "planeless-admin", "system:masters"},
		{"kubelet.kubeconfig", "system:node:" + c.NodeName, "system:nodes"},
		{"kube-proxy.kubeconfig", "system:kube-proxy", ""},
		{"controller-manager.kubeconfig", "system:kube-controller-manager", ""},
		{"scheduler.kubeconfig", "system:kube-scheduler", ""},
	}
	var tokens strings.Builder
	for _, u := range users {
		tok := token()
		fmt.Fprintf(&tokens, "%s,%s,%s,%q\n", tok, u.user, u.user, u.groups)
		kc := clientcmdapi.NewConfig()
		kc.Clusters["planeless"] = &clientcmdapi.Cluster{Server: "https://" + c.NodeIP + ":6443", CertificateAuthorityData: ca}
		kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: tok}
		kc.Contexts["planeless"] = &clientcmdapi.Context{Cluster: "planeless", AuthInfo: "user", Namespace: "default"}
		kc.CurrentContext = "planeless"
		path := c.path("etc", u.file)
		if u.file == "kubeconfig" {
			path = c.path("kubeconfig")
		}
		if err := clientcmd.WriteToFile(*kc, path); err != nil {
			return err
		}
	}
	files := map[string]string{
		"tokens.csv":      tokens.String(),
		"containerd.toml": c.containerdConfig(),
		"kubelet.yaml":    c.kubeletConfig(),
		"kube-proxy.yaml": c.kubeProxyConfig(),
		"Corefile":        c.corefile(),
		// Pods with dnsPolicy Default get no resolver: nothing outside
		// the node answers.
		"resolv.conf": "",
	}
	for name, data := range files {
		if err := os.WriteFile(c.path("etc", name), []byte(data), 0o600); err != nil {
			return err
		}
	}
	return os.WriteFile(c.path("cni", "net.d", "10-planeless.conflist"), []byte(cniConfig), 0o644)
}

func (c *Cluster) containerdConfig() string {
	return fmt.Sprintf(`version = 3
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[ttrpc]
  address = "%[3]s.ttrpc"
[plugins]
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = %[7]q
  [plugins.'io.containerd.cri.v1.runtime']
    # Root here lacks CAP_SYS_RESOURCE: never raise a process's OOM score.
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      BinaryName = %[4]q
      Root = %[5]q
      SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      # The node's own folder first: CNI mode's agent installs its plugin
      # there, never into the machine's own folder of plugins.
      bin_dirs = [%[9]q, %[6]q]
      conf_dir = %[8]q
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
`, c.path("containerd"), c.path("run", "containerd-state"), c.socket(), c.Tools.Runc, c.path("run", "runc"), c.Tools.CNI, images.PauseRef, c.path("cni", "net.d"), c.CNIBinDir())
}

const cniConfig = `{
  "cniVersion": "1.0.0",
  "name": "planeless",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "` + PodCIDR + `", "gateway": "` + podGateway + `"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`

// CNIBinDir and CNIConfDir are the node's CNI folders, where CNI mode's
// agent installs and chains its plugin.
func (c *Cluster) CNIBinDir() string  { return c.path("cni", "bin") }
func (c *Cluster) CNIConfDir() string { return c.path("cni", "net.d") }

func (c *Cluster) kubeletConfig() string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %[1]s
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
cgroupDriver: cgroupfs
cgroupRoot: /%[2]s
failCgroupV1: false
failSwapOn: false
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
clusterDNS: [%[3]s]
clusterDomain: cluster.local
resolvConf: %[4]s
containerRuntimeEndpoint: unix://%[5]s
podCIDR: %[6]s
serializeImagePulls: false
syncFrequency: 10s
fileCheckFrequency: 10s
nodeStatusUpdateFrequency: 4s
`, c.NodeIP, c.cgroup(), DNSService, c.path("etc", "resolv.conf"), c.socket(), PodCIDR)
}

func (c *Cluster) kubeProxyConfig() string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %[1]s
mode: iptables
clusterCIDR: %[2]s
hostnameOverride: %[3]s
bindAddress: %[4]s
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [%[4]s/32]
# The conntrack table's size is the machine's, not the namespace's: leave it.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  minSyncPeriod: 0s
  syncPeriod: 30s
`, c.path("etc", "kube-proxy.kubeconfig"), ClusterCIDR, c.NodeName, c.NodeIP)
}

func (c *Cluster) corefile() string {
	return fmt.Sprintf(`.:53 {
    bind %[1]s
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %[2]s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
`, c.NodeIP, c.path("kubeconfig"))
}

// dnsService points the kube-dns Service at CoreDNS, a process of the node
// on the node IP: a Service without selector and its EndpointSlice.
func (c *Cluster) dnsService(ctx context.Context) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: DNSService,
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
			},
		},
	}
	udp, tcp, port := corev1.ProtocolUDP, corev1.ProtocolTCP, int32(53)
	dnsName, tcpName := "dns", "dns-tcp"
	ready := true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns-coredns", Namespace: "kube-system", Labels: map[string]string{
			discoveryv1.LabelServiceName: "kube-dns",
			discoveryv1.LabelManagedBy:   "planeless-node",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{c.NodeIP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports: []discoveryv1.EndpointPort{
			{Name: &dnsName, Protocol: &udp, Port: &port},
			{Name: &tcpName, Protocol: &tcp, Port: &port},
		},
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.Client.CoreV1().Services("kube-system").Create(ctx, svc, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("creating the kube-dns Service: %w", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if _, err := c.Client.DiscoveryV1().EndpointSlices("kube-system").Create(ctx, slice, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating kube-dns's EndpointSlice: %w", err)
	}
	return nil
}

// waitReady waits until the node is Ready and the default namespace has
// its ServiceAccount (the controller-manager made it): pods can start.
func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		node, err := c.Client.CoreV1().Nodes().Get(ctx, c.NodeName, metav1.GetOptions{})
		nodeReady := false
		if err == nil {
			for _, cond := range node.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					nodeReady = true
				}
			}
		}
		_, saErr := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		_, cmErr := c.Client.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		if nodeReady && saErr == nil && cmErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s not ready within 2m (node: %v, ready %v; service account: %v; root CA: %v)", c.NodeName, err, nodeReady, saErr, cmErr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
