package tap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/planeless/planeless/inject"
)

// Line is one line of a followed container log.
type Line struct {
	Pod  PodRef
	Text []byte
}

// EventKind says what happened to a pod's stream.
type EventKind string

// Event kinds.
const (
	// PodJoined: the pod's sidecar log is followed from now on.
	PodJoined EventKind = "joined"
	// PodLeft: the pod was deleted or finished.
	PodLeft EventKind = "left"
	// PodSkipped: the pod has no sidecar container.
	PodSkipped EventKind = "skipped"
	// StreamFailed: following the log failed; it is retried.
	StreamFailed EventKind = "stream failed"
	// BadLine: a JSON line with a field of an unexpected type.
	BadLine EventKind = "bad line"
)

// Event is something the user may want to know while tap runs.
type Event struct {
	Kind EventKind
	Pod  PodRef
	Err  error
}

func (e Event) String() string {
	if e.Err != nil {
		return fmt.Sprintf("%s %s: %v", e.Pod, e.Kind, e.Err)
	}
	return fmt.Sprintf("%s %s", e.Pod, e.Kind)
}

// Streamer follows the sidecar log of every pod the target selects, as
// pods come and go: it watches the pods (by the deployment's selector, in
// the namespace, or by name) and follows the log of each pod whose
// sidecar container is running, through the pod-log API.
//
// Pods running when the streamer starts contribute only new lines; pods
// whose sidecar starts later contribute their whole log, so a new pod's
// first requests are seen.
type Streamer struct {
	Client kubernetes.Interface
	Target Target
	// Container is the sidecar's name (default inject.ProxyName). The
	// pod-log API follows init containers too, so native sidecars work.
	Container string
	// Events, when set, hears about pods joining and leaving and about
	// failures; it is called from one goroutine at a time.
	Events func(Event)
	// Retry is the pause before following a log again after its stream
	// ended or failed (default 1s).
	Retry time.Duration

	mu        sync.Mutex
	followers map[PodRef]*follower
	pods      map[PodRef]sidecarState
	skipped   map[PodRef]bool
	wg        sync.WaitGroup
	eventMu   sync.Mutex
}

type follower struct{ cancel context.CancelFunc }

// sidecarState is the sidecar container's state in the latest pod seen.
type sidecarState struct {
	present     bool
	running     bool
	containerID string
	finished    bool // the pod succeeded or failed
}

// Run sends the lines of every followed log to lines until ctx ends, then
// waits for its followers and returns nil; a Streamer runs once. It returns an error at once
// when the target cannot be resolved or its pods cannot be listed.
func (s *Streamer) Run(ctx context.Context, lines chan<- Line) error {
	if s.Container == "" {
		s.Container = inject.ProxyName
	}
	if s.Retry == 0 {
		s.Retry = time.Second
	}
	s.followers = map[PodRef]*follower{}
	s.pods = map[PodRef]sidecarState{}
	s.skipped = map[PodRef]bool{}

	tweak, err := s.selector(ctx)
	if err != nil {
		return err
	}
	pods := s.Client.CoreV1().Pods(s.Target.Namespace)
	probe := metav1.ListOptions{Limit: 1}
	tweak(&probe)
	if _, err := pods.List(ctx, probe); err != nil {
		return fmt.Errorf("listing the pods of %s: %w", s.Target, err)
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			return pods.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			tweak(&o)
			return pods.Watch(ctx, o)
		},
	}
	_, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    &corev1.Pod{},
		Handler: cache.ResourceEventHandlerDetailedFuncs{
			AddFunc: func(obj any, initial bool) {
				if p, ok := obj.(*corev1.Pod); ok {
					s.sync(ctx, p, initial, lines)
				}
			},
			UpdateFunc: func(_, obj any) {
				if p, ok := obj.(*corev1.Pod); ok {
					s.sync(ctx, p, false, lines)
				}
			},
			DeleteFunc: func(obj any) {
				if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = d.Obj
				}
				if p, ok := obj.(*corev1.Pod); ok {
					s.leave(refOf(p))
				}
			},
		},
	})
	informer.RunWithContext(ctx)
	s.wg.Wait()
	return nil
}

// selector returns how to narrow pod lists and watches to the target.
func (s *Streamer) selector(ctx context.Context) (func(*metav1.ListOptions), error) {
	switch s.Target.Kind {
	case KindNamespace:
		return func(*metav1.ListOptions) {}, nil
	case KindPod:
		field := fields.OneTermEqualSelector("metadata.name", s.Target.Name).String()
		return func(o *metav1.ListOptions) { o.FieldSelector = field }, nil
	case KindDeployment:
		d, err := s.Client.AppsV1().Deployments(s.Target.Namespace).Get(ctx, s.Target.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("getting %s: %w", s.Target, err)
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			return nil, fmt.Errorf("reading the selector of %s: %w", s.Target, err)
		}
		if sel.Empty() {
			return nil, fmt.Errorf("%s selects every pod", s.Target)
		}
		label := sel.String()
		return func(o *metav1.ListOptions) { o.LabelSelector = label }, nil
	default:
		return nil, fmt.Errorf("unknown target kind %q", s.Target.Kind)
	}
}

// sync starts following a pod whose sidecar runs and stops following a
// pod that finished. initial says the pod was there when tap started.
func (s *Streamer) sync(ctx context.Context, p *corev1.Pod, initial bool, lines chan<- Line) {
	ref := refOf(p)
	st := s.sidecarOf(p)
	s.mu.Lock()
	s.pods[ref] = st
	_, following := s.followers[ref]
	skip := !st.present && !s.skipped[ref]
	if skip {
		s.skipped[ref] = true
	}
	s.mu.Unlock()

	switch {
	case skip:
		s.event(Event{Kind: PodSkipped, Pod: ref, Err: fmt.Errorf("no %s container", s.Container)})
	case st.finished && following:
		s.leave(ref)
	case st.running && !st.finished && !following:
		s.follow(ctx, ref, st.containerID, initial, lines)
	}
}

func (s *Streamer) sidecarOf(p *corev1.Pod) sidecarState {
	st := sidecarState{finished: p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed}
	for _, c := range slices.Concat(p.Spec.InitContainers, p.Spec.Containers) {
		if c.Name == s.Container {
			st.present = true
		}
	}
	for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
		if cs.Name == s.Container {
			st.running = cs.State.Running != nil
			st.containerID = cs.ContainerID
		}
	}
	return st
}

// follow starts a goroutine following ref's sidecar log until the pod
// leaves. After the first stream ends it reconnects; only new lines are
// asked for while the container is the same instance.
func (s *Streamer) follow(ctx context.Context, ref PodRef, containerID string, initial bool, lines chan<- Line) {
	ctx, cancel := context.WithCancel(ctx)
	f := &follower{cancel: cancel}
	s.mu.Lock()
	s.followers[ref] = f
	s.mu.Unlock()
	s.event(Event{Kind: PodJoined, Pod: ref})

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		onlyNew := initial
		reported := "" // the last failure told, so a retry loop tells it once
		for {
			err := s.stream(ctx, ref, onlyNew, lines)
			if ctx.Err() != nil {
				return
			}
			switch {
			case err == nil:
				reported = ""
			case err.Error() != reported:
				reported = err.Error()
				s.event(Event{Kind: StreamFailed, Pod: ref, Err: err})
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.Retry):
			}
			s.mu.Lock()
			st := s.pods[ref]
			s.mu.Unlock()
			onlyNew = st.containerID == containerID
			containerID = st.containerID
		}
	}()
}

// stream follows one log stream until it ends.
func (s *Streamer) stream(ctx context.Context, ref PodRef, onlyNew bool, lines chan<- Line) error {
	opts := &corev1.PodLogOptions{Container: s.Container, Follow: true}
	if onlyNew {
		opts.TailLines = new(int64)
	}
	rc, err := s.Client.CoreV1().Pods(ref.Namespace).GetLogs(ref.Name, opts).Stream(ctx)
	if err != nil {
		return fmt.Errorf("following the %s log: %w", s.Container, err)
	}
	defer rc.Close()
	r := bufio.NewReader(rc)
	for {
		text, err := r.ReadBytes('\n')
		if len(text) > 0 {
			select {
			case lines <- Line{Pod: ref, Text: text}:
			case <-ctx.Done():
				return nil
			}
		}
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the %s log: %w", s.Container, err)
		}
	}
}

// leave stops following a pod that was deleted or finished.
func (s *Streamer) leave(ref PodRef) {
	s.mu.Lock()
	f, ok := s.followers[ref]
	delete(s.followers, ref)
	delete(s.pods, ref)
	delete(s.skipped, ref)
	s.mu.Unlock()
	if ok {
		f.cancel()
		s.event(Event{Kind: PodLeft, Pod: ref})
	}
}

func (s *Streamer) event(e Event) {
	if s.Events == nil {
		return
	}
	s.eventMu.Lock()
	defer s.eventMu.Unlock()
	s.Events(e)
}

func refOf(p *corev1.Pod) PodRef { return PodRef{Namespace: p.Namespace, Name: p.Name} }
