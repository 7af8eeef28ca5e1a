package tap

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kubelet serves what the API server asks a kubelet for pods/log:
// GET /containerLogs/{namespace}/{pod}/{container}?follow=true&tailLines=N,
// streaming the files of that container as they grow, line by line (the
// harness writes Envoy's stdout and stderr to separate files; a kubelet
// would interleave them too). tailLines=0 starts at the end; any other
// request starts at the beginning.
type kubelet struct {
	srv *httptest.Server

	mu    sync.Mutex
	files map[string][]string      // ns/pod/container → files
	gone  map[string]chan struct{} // closed when the pod's containers stop
	// streams counts the log requests per ns/pod, once their start
	// offsets are taken.
	streams map[string]int
}

func startKubelet(t *testing.T) *kubelet {
	t.Helper()
	k := &kubelet{files: map[string][]string{}, gone: map[string]chan struct{}{}, streams: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", k.containerLogs)
	k.srv = httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k.srv.Listener = l
	k.srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	k.srv.StartTLS()
	t.Cleanup(k.srv.Close)
	return k
}

func (k *kubelet) port() int32 { return int32(k.srv.Listener.Addr().(*net.TCPAddr).Port) }

// serve makes the container's log the content of files.
func (k *kubelet) serve(ns, pod, container string, files ...string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.files[ns+"/"+pod+"/"+container] = files
	if _, ok := k.gone[ns+"/"+pod]; !ok {
		k.gone[ns+"/"+pod] = make(chan struct{})
	}
}

// stop ends the pod's log streams, as when its containers stop.
func (k *kubelet) stop(ns, pod string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.gone[ns+"/"+pod]; ok {
		close(c)
	}
}

// streamsOf is how many log requests for the pod the kubelet answered.
func (k *kubelet) streamsOf(ns, pod string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.streams[ns+"/"+pod]
}

func (k *kubelet) containerLogs(w http.ResponseWriter, r *http.Request) {
	ns, pod, container := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container")
	k.mu.Lock()
	files, ok := k.files[ns+"/"+pod+"/"+container]
	gone := k.gone[ns+"/"+pod]
	k.mu.Unlock()
	if !ok {
		http.Error(w, fmt.Sprintf("container %q of pod %s/%s is not found", container, ns, pod), http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	follow, _ := strconv.ParseBool(q.Get("follow"))
	tails := make([]*tail, len(files))
	for i, f := range files {
		tails[i] = &tail{path: f}
		if q.Get("tailLines") == "0" {
			tails[i].skipExisting()
		}
	}
	k.mu.Lock()
	k.streams[ns+"/"+pod]++
	k.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	for {
		for _, t := range tails {
			if lines := t.newLines(); len(lines) > 0 {
				if _, err := w.Write(lines); err != nil {
					return
				}
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if !follow {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-gone:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tail reads the complete lines a file gained since the last read.
type tail struct {
	path    string
	offset  int64
	partial []byte
}

func (t *tail) skipExisting() {
	if fi, err := os.Stat(t.path); err == nil {
		t.offset = fi.Size()
	}
}

func (t *tail) newLines() []byte {
	f, err := os.Open(t.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(t.offset, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(f)
	t.offset += int64(len(b))
	t.partial = append(t.partial, b...)
	end := bytes.LastIndexByte(t.partial, '\n')
	if end < 0 {
		return nil
	}
	lines := bytes.Clone(t.partial[:end+1])
	t.partial = bytes.Clone(t.partial[end+1:])
	return lines
}

const nodeName = "node-1"

// registerNode makes the API server reach the kubelet on 127.0.0.1.
func registerNode(t *testing.T, c kubernetes.Interface, k *kubelet) {
	t.Helper()
	ctx := t.Context()
	node, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating the node: %v", err)
	}
	node.Status = corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: k.port()}},
		Conditions:      []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
	}
	if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("setting the node's status: %v", err)
	}
}

// registerPod creates pod on the node and reports its containers running,
// as a kubelet would once it started them.
func registerPod(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod, ip string) error {
	obj := pod.DeepCopy()
	obj.ResourceVersion, obj.UID = "", ""
	obj.Spec.NodeName = nodeName
	created, err := c.CoreV1().Pods(obj.Namespace).Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating pod %s: %w", obj.Name, err)
	}
	now := metav1.Now()
	running := func(ctr corev1.Container) corev1.ContainerStatus {
		started := true
		return corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: ctr.Image, Ready: true, Started: &started,
			ContainerID: "harness://" + obj.Name + "/" + ctr.Name,
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}
	}
	created.Status = corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    "127.0.0.1",
		PodIP:     ip,
		PodIPs:    []corev1.PodIP{{IP: ip}},
		StartTime: &now,
	}
	for _, ctr := range created.Spec.InitContainers {
		st := running(ctr)
		if ctr.RestartPolicy == nil || *ctr.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			st.Ready, st.Started = false, new(bool)
			st.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}}
		}
		created.Status.InitContainerStatuses = append(created.Status.InitContainerStatuses, st)
	}
	for _, ctr := range created.Spec.Containers {
		created.Status.ContainerStatuses = append(created.Status.ContainerStatuses, running(ctr))
	}
	if _, err := c.CoreV1().Pods(obj.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("setting the status of pod %s: %w", obj.Name, err)
	}
	return nil
}
