package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// The answer is written by hand for speed: it must be the very bytes
// encoding/json's Encoder writes for the same AdmissionReview, whatever
// the response holds, the patch given raw or already in base64.
func TestAnswersAreEncodedAsEncodingJSONEncodesThem(t *testing.T) {
	patch := []byte(`[{"op":"add","path":"/metadata/annotations","value":{"a":"<b> & \"c\""}}]`)
	injected := admission.Allowed("planeless injected the pod").WithWarnings("a <warning> & \"quotes\"", "a second\nline")
	patchType := admissionv1.PatchTypeJSONPatch
	injected.PatchType = &patchType
	denied := admission.Denied(`planeless.dev/ports: "x" is not a port`)
	denied.Result.Code = http.StatusBadRequest
	audited := admission.Allowed("")
	audited.AuditAnnotations = map[string]string{"b": "2", "a": "<1>"}
	errored := admission.Errored(http.StatusInternalServerError, errForTest("panic: boom [recovered]"))

	for name, tc := range map[string]struct {
		tm      metav1.TypeMeta
		resp    admission.Response
		patch   []byte
		encoded bool
	}{
		"injected, the patch raw":          {tm: reviewType, resp: injected, patch: patch},
		"injected, the patch in base64":    {tm: reviewType, resp: injected, patch: patch, encoded: true},
		"denied with a code":               {tm: reviewType, resp: denied},
		"allowed with audit annotations":   {tm: reviewType, resp: audited},
		"errored":                          {tm: reviewType, resp: errored},
		"a review without kind or version": {resp: injected, patch: patch},
		"no status at all":                 {tm: reviewType, resp: admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true}}},
	} {
		t.Run(name, func(t *testing.T) {
			tc.resp.UID = "uid-<1>"
			want := tc.resp
			want.Patch = tc.patch
			var buf bytes.Buffer
			if err := json.NewEncoder(&buf).Encode(admissionv1.AdmissionReview{TypeMeta: tc.tm, Response: &want.AdmissionResponse}); err != nil {
				t.Fatal(err)
			}
			r := reply{Response: tc.resp}
			if tc.encoded {
				r.patch64 = base64.StdEncoding.AppendEncode(nil, tc.patch)
			} else {
				r.Patch = tc.patch
			}
			if got := appendAnswer(nil, tc.tm, r); !bytes.Equal(got, buf.Bytes()) {
				t.Errorf("got\n%s\nencoding/json writes\n%s", got, buf.Bytes())
			}
		})
	}
}

var reviewType = metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}

type errForTest string

func (e errForTest) Error() string { return string(e) }
