package check

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// gatherNamespaces reads the namespaces (only the one named, when scope is
// set) and how the webhook treats each.
func gatherNamespaces(ctx context.Context, client kubernetes.Interface, w Webhook, scope string) ([]Namespace, error) {
	var items []corev1.Namespace
	if scope != "" {
		ns, err := client.CoreV1().Namespaces().Get(ctx, scope, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading namespace %s: %w", scope, err)
		}
		items = []corev1.Namespace{*ns}
	} else {
		list, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing namespaces: %w", err)
		}
		items = list.Items
	}
	out := make([]Namespace, 0, len(items))
	for _, ns := range items {
		set := labels.Set(ns.Labels)
		n := Namespace{
			Name:     ns.Name,
			Labelled: w.Labelled != nil && w.Labelled.Matches(set),
			Selected: w.NamespaceSelector != nil && w.NamespaceSelector.Matches(set),
		}
		if n.Labelled {
			n.LabelledAt = labelledAt(ns.ManagedFields, w.LabelKeys)
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Namespace) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, nil
}

// labelledAt returns when one of the label keys was last set, from the
// namespace's managed fields: the latest time of an entry that owns one of
// them. Zero when no entry says.
func labelledAt(fields []metav1.ManagedFieldsEntry, keys []string) time.Time {
	var at time.Time
	for _, f := range fields {
		if f.FieldsV1 == nil || f.Time == nil {
			continue
		}
		var set struct {
			Metadata struct {
				Labels map[string]json.RawMessage `json:"f:labels"`
			} `json:"f:metadata"`
		}
		if err := json.Unmarshal(f.FieldsV1.GetRawBytes(), &set); err != nil {
			continue
		}
		for _, k := range keys {
			if _, ok := set.Metadata.Labels["f:"+k]; ok && f.Time.After(at) {
				at = f.Time.Time
			}
		}
	}
	return at
}
