{{/* The release's base name for every object. */}}
{{- define "planeless.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "planeless.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "planeless.labels" -}}
{{ include "planeless.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "planeless.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "planeless.serviceAccountName" -}}
{{ .Values.serviceAccount.name | default (include "planeless.fullname" .) }}
{{- end -}}

{{- define "planeless.secretName" -}}
{{ .Values.tls.secretName | default (printf "%s-tls" (include "planeless.fullname" .)) }}
{{- end -}}

{{/* The MutatingWebhookConfiguration is cluster-scoped: name it after the
release namespace too, so two releases never collide. */}}
{{- define "planeless.webhookConfigName" -}}
{{- if eq .Release.Namespace (include "planeless.fullname" .) -}}
{{ include "planeless.fullname" . }}
{{- else -}}
{{ printf "%s-%s" (include "planeless.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" }}
{{- end -}}
{{- end -}}

{{- define "planeless.certDir" -}}/var/run/planeless/certs{{- end -}}
{{- define "planeless.templatesDir" -}}/etc/planeless/templates{{- end -}}
