package harness

import corev1 "k8s.io/api/core/v1"

// Reload gives the pod the proxy of injected, the same pod injected again
// (with other annotations, say): Envoy restarts with its bootstrap, as
// when a Deployment's pods are replaced after an annotation changed; the
// apps keep running.
func (p *Pod) Reload(t T, injected *corev1.Pod) {
	t.Helper()
	if injected.Name != p.Name {
		t.Fatalf("pod %s cannot reload pod %s", p.Name, injected.Name)
	}
	p.KillEnvoy(t)
	p.mu.Lock()
	p.Object = injected
	p.mu.Unlock()
	p.StartEnvoy(t)
}
