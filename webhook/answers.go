package webhook

import (
	"encoding/base64"
	"slices"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/internal/lru"
)

// DefaultAnswerCacheBytes is the memory the answers of injected pods may
// hold: some 350 answers of 45 KB, one per pod shape.
const DefaultAnswerCacheBytes = 16 << 20

// answers are the answers of injected pods, kept by what the injector read
// of each (inject.Key) and whether the pod's namespace enforces Pod
// Security (which adds a warning). The pods of one ReplicaSet reach the
// webhook as the same bytes but for their managedFields: every one after
// the first gets the first one's answer, its patch already in base64,
// without decoding the pod, injecting it or encoding a patch. A nil
// *answers keeps nothing.
type answers struct {
	cache *lru.Cache[answerKey, *answer]
}

type answerKey struct {
	pod      inject.Key
	enforced bool
}

// answer is what a reply of an injected pod holds, but for its UID.
type answer struct {
	message  string
	warnings []string
	pod      string
	// patch64 is the patch in base64, as the wire carries it.
	patch64 []byte
}

func newAnswers(budget int) *answers {
	return &answers{cache: lru.New(budget, func(_ answerKey, a *answer) int {
		n := 128 + len(a.message) + len(a.pod) + len(a.patch64)
		for _, w := range a.warnings {
			n += 16 + len(w)
		}
		return n
	})}
}

// newAnswer keeps resp, an injected pod's answer, encoding its patch.
func newAnswer(resp admission.Response, pod string) *answer {
	return &answer{
		message:  resp.Result.Message,
		warnings: slices.Clone(resp.Warnings),
		pod:      pod,
		patch64:  base64.StdEncoding.AppendEncode(nil, resp.Patch),
	}
}

// reply is the answer again, cached said so. Its warnings and patch are
// the answer's: nothing may change them.
func (a *answer) reply(cached bool) reply {
	resp := admission.Allowed(a.message)
	patchType := admissionv1.PatchTypeJSONPatch
	resp.PatchType = &patchType
	resp.Warnings = a.warnings
	return reply{Response: resp, patch64: a.patch64, cached: cached}
}

// key is the cache's key of a review of raw in namespace; false when the
// review is not to be cached (no cache, or a pod the injector refuses for
// its size or cannot read).
func (c *answers) key(raw []byte, namespace string, enforced bool) (answerKey, bool) {
	if c == nil {
		return answerKey{}, false
	}
	k, ok := inject.KeyOf(raw, namespace)
	return answerKey{pod: k, enforced: enforced}, ok
}

func (c *answers) get(k answerKey) (*answer, bool) { return c.cache.Get(k) }

func (c *answers) add(k answerKey, a *answer) { c.cache.Add(k, a) }

func (c *answers) stats() lru.Stats {
	if c == nil {
		return lru.Stats{}
	}
	return c.cache.Stats()
}
