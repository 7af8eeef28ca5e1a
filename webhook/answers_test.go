package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/planeless/planeless/inject"
)

// withManagedFields sets the pod's managedFields as the API server stamps
// them before admission, at the given second.
func withManagedFields(second string) func(map[string]any) {
	return func(r map[string]any) {
		podOf(r)["metadata"].(map[string]any)["managedFields"] = []any{map[string]any{
			"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
			"time":     "2026-12-03T10:00:" + second + "Z",
			"fieldsV1": map[string]any{"f:metadata": map[string]any{"f:generateName": map[string]any{}}},
		}}
	}
}

// withTokenVolume gives the pod the service account token volume the API
// server adds before admission, named at random for each pod and mounted
// in its container, and managedFields of the given second.
func withTokenVolume(name, second string) func(map[string]any) {
	return func(r map[string]any) {
		withManagedFields(second)(r)
		spec := podOf(r)["spec"].(map[string]any)
		spec["volumes"] = []any{map[string]any{"name": name, "projected": map[string]any{}}}
		c := spec["containers"].([]any)[0].(map[string]any)
		c["volumeMounts"] = []any{map[string]any{"name": name, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}}
	}
}

// replaceIn rewrites the review's JSON text: hostile shapes that a map
// cannot hold (repeated members, escaped names).
func replaceIn(body []byte, old, new string) []byte {
	return bytes.Replace(body, []byte(old), []byte(new), 1)
}

// The answer cache must never change an answer: every review, in any
// order, gets from the webhook as it serves (both caches, the two paths
// sharing one answer cache) the bytes a webhook without caches gives.
// Pods differing only in managedFields and the name of their service
// account token volume are answered from the cache;
// anything else the injector reads (labels, annotations, the namespace,
// the spec, repeated or escaped members) is answered afresh.
func TestTheAnswerCacheNeverChangesAnAnswer(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	answers := newAnswers(DefaultAnswerCacheBytes)
	cachedInjector := withBootstrapCache(inject.New(), prometheus.NewRegistry())
	serving := map[bool]admissionHTTP{}
	fresh := map[bool]admissionHTTP{}
	for _, enforced := range []bool{false, true} {
		serving[enforced] = newAdmissionHTTP(&Handler{Injector: cachedInjector, Log: log, PodSecurityEnforced: enforced, answers: answers}, make(chan struct{}, 1))
		fresh[enforced] = newAdmissionHTTP(&Handler{Injector: inject.New(), Log: log, PodSecurityEnforced: enforced}, make(chan struct{}, 1))
	}
	base := review(t, withManagedFields("01"))
	reviews := []struct {
		name   string
		body   []byte
		cached bool // answered from the cache when it follows the reviews before it
	}{
		{"the first pod", base, false},
		{"the same bytes", base, true},
		{"a later second in managedFields", review(t, withManagedFields("02")), true},
		{"a token volume", review(t, withTokenVolume("kube-api-access-fghij", "02")), false},
		{"another token volume", review(t, withTokenVolume("kube-api-access-klmno", "03")), true},
		{"a volume that may be the injector's", review(t, func(r map[string]any) {
			withManagedFields("03")(r)
			podOf(r)["spec"].(map[string]any)["volumes"] = []any{map[string]any{"name": "planeless-data", "projected": map[string]any{}}}
		}), false},
		// Equal keys need equal bytes but for managedFields' value: a pod
		// without the member, or with its name escaped, is answered afresh
		// (the API server always writes it, and plainly).
		{"no managedFields", review(t, nil), false},
		{"another label", review(t, func(r map[string]any) {
			withManagedFields("03")(r)
			podOf(r)["metadata"].(map[string]any)["labels"].(map[string]any)["version"] = "v2"
		}), false},
		{"an annotation", review(t, func(r map[string]any) {
			withManagedFields("03")(r)
			setAnnotation("planeless.dev/retries", "2")(r)
		}), false},
		{"another namespace", review(t, func(r map[string]any) {
			withManagedFields("03")(r)
			r["request"].(map[string]any)["namespace"] = "other"
		}), false},
		{"another port", review(t, func(r map[string]any) {
			withManagedFields("03")(r)
			c := podOf(r)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
			c["ports"] = append(c["ports"].([]any), map[string]any{"containerPort": 9090, "protocol": "TCP"})
		}), false},
		{"a second metadata after managedFields", replaceIn(base, `"spec":`, `"metadata":{"labels":{"app":"other"}},"spec":`), false},
		{"managedFields spelt with an escape", replaceIn(review(t, withManagedFields("04")), `"managedFields"`, `"managed\u0046ields"`), false},
		{"managedFields outside metadata", replaceIn(base, `"spec":`, `"managedFields":[],"spec":`), false},
		{"a label named managedFields", review(t, func(r map[string]any) {
			withManagedFields("05")(r)
			podOf(r)["metadata"].(map[string]any)["labels"].(map[string]any)["managedFields"] = "x"
		}), false},
	}
	send := func(h admissionHTTP, body []byte) []byte {
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
		return rec.Body.Bytes()
	}
	for _, enforced := range []bool{false, true} {
		for _, r := range reviews {
			before := answers.stats()
			got, want := send(serving[enforced], r.body), send(fresh[enforced], r.body)
			if !bytes.Equal(got, want) {
				t.Errorf("enforced %v, %s: the webhook as it serves answered\n%.600s\na webhook without caches\n%.600s", enforced, r.name, got, want)
			}
			if !strings.Contains(string(got), `"patch":"`) {
				t.Errorf("enforced %v, %s: not injected: %.300s", enforced, r.name, got)
			}
			if hit := answers.stats().Hits > before.Hits; hit != r.cached {
				t.Errorf("enforced %v, %s: answered from the cache %v, want %v", enforced, r.name, hit, r.cached)
			}
		}
	}
	afresh := 0
	for _, r := range reviews {
		if !r.cached {
			afresh++
		}
	}
	if s := answers.stats(); s.Entries != 2*afresh {
		t.Errorf("the cache holds %d answers, want %d: one for each review answered afresh, on each path", s.Entries, 2*afresh)
	}
}

// An answer from the cache is the first pod's but for its UID: each
// review gets its own back.
func TestAnAnswerFromTheCacheStillCarriesItsOwnUID(t *testing.T) {
	h := newAdmissionHTTP(&Handler{Injector: inject.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), answers: newAnswers(DefaultAnswerCacheBytes)}, make(chan struct{}, 1))
	for _, uid := range []string{"first", "second"} {
		body := review(t, func(r map[string]any) { r["request"].(map[string]any)["uid"] = uid })
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var answer struct {
			Response struct {
				UID string `json:"uid"`
			} `json:"response"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer.Response.UID != uid {
			t.Errorf("answered uid %q (%v), sent %q", answer.Response.UID, err, uid)
		}
	}
	if s := h.h.answers.stats(); s.Hits != 1 {
		t.Errorf("the second review was not answered from the cache: %+v", s)
	}
}
