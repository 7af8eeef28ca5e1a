package webhook

import (
	"encoding/base64"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// reply is the answer to one review: the response, and its patch already
// in base64 when it came from the answer cache or went into it (then
// Patch is nil, and patch64 is the cache's: nothing may change it).
type reply struct {
	admission.Response
	patch64 []byte
	// cached says the answer came from the answer cache.
	cached bool
}

// appendAnswer appends to out what encoding/json's Encoder writes for
// admissionv1.AdmissionReview{TypeMeta: tm, Response: &r.AdmissionResponse}
// (TestAnswersAreEncodedAsEncodingJSONEncodesThem), the patch written as
// the base64 it is, or encoded straight into out: a patch is most of an
// answer, and base64 most of the time encoding/json spends on it.
func appendAnswer(out []byte, tm metav1.TypeMeta, r reply) []byte {
	resp := &r.AdmissionResponse
	out = append(out, '{')
	if tm.Kind != "" {
		out = append(appendJSON(append(out, `"kind":`...), tm.Kind), ',')
	}
	if tm.APIVersion != "" {
		out = append(appendJSON(append(out, `"apiVersion":`...), tm.APIVersion), ',')
	}
	out = appendJSON(append(out, `"response":{"uid":`...), resp.UID)
	out = appendJSON(append(out, `,"allowed":`...), resp.Allowed)
	if resp.Result != nil {
		out = appendJSON(append(out, `,"status":`...), resp.Result)
	}
	switch {
	case r.patch64 != nil:
		out = append(append(append(out, `,"patch":"`...), r.patch64...), '"')
	case len(resp.Patch) > 0:
		out = append(base64.StdEncoding.AppendEncode(append(out, `,"patch":"`...), resp.Patch), '"')
	}
	if resp.PatchType != nil {
		out = appendJSON(append(out, `,"patchType":`...), *resp.PatchType)
	}
	if len(resp.AuditAnnotations) > 0 {
		out = appendJSON(append(out, `,"auditAnnotations":`...), resp.AuditAnnotations)
	}
	if len(resp.Warnings) > 0 {
		out = appendJSON(append(out, `,"warnings":`...), resp.Warnings)
	}
	return append(out, "}}\n"...)
}

// appendJSON appends v as encoding/json encodes it. The values of an
// answer (strings, a status, a map of strings) always encode.
func appendJSON(out []byte, v any) []byte {
	b, _ := json.Marshal(v)
	return append(out, b...)
}
