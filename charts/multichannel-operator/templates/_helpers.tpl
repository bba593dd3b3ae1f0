{{/*
Names: the chart keeps config/default's fixed names (prefix "multichannel-"),
so the RBAC generated from config/ refers to the same ServiceAccount and the
two ways of installing grant exactly the same permissions. Install one release
per cluster: the CRDs and ClusterRoles are cluster-wide anyway.
*/}}
{{- define "multichannel-operator.prefix" -}}multichannel-{{- end }}

{{- define "multichannel-operator.serviceAccountName" -}}multichannel-controller-manager{{- end }}

{{- define "multichannel-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object of the release carries; generated objects add only these. */}}
{{- define "multichannel-operator.releaseLabels" -}}
helm.sh/chart: {{ include "multichannel-operator.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{/* Labels of the objects the chart writes by hand. */}}
{{- define "multichannel-operator.labels" -}}
app.kubernetes.io/name: multichannel-operator
{{ include "multichannel-operator.releaseLabels" . }}
{{- end }}

{{/* The manager pods' selector, as in config/manager. */}}
{{- define "multichannel-operator.selectorLabels" -}}
app.kubernetes.io/name: multichannel-operator
app.kubernetes.io/component: manager
{{- end }}

{{- define "multichannel-operator.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end -}}
{{- end }}
