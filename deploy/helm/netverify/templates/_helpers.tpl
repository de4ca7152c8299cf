{{/* Chart name, possibly overridden. */}}
{{- define "netverify.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of every object: the release name if it contains the chart name,
else <release>-<chart>. Release "netverify" gives "netverify", the names of
deploy/kustomize/base.
*/}}
{{- define "netverify.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "netverify.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "netverify.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: netverify
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The service account netverify runs as, and its user name. */}}
{{- define "netverify.serviceAccount" -}}
{{ include "netverify.fullname" . }}
{{- end }}
{{- define "netverify.user" -}}
system:serviceaccount:{{ .Release.Namespace }}:{{ include "netverify.serviceAccount" . }}
{{- end }}

{{/* Name of the report ConfigMap (in the release namespace). */}}
{{- define "netverify.reportConfigMap" -}}
{{- default (printf "%s-report" (include "netverify.fullname" .)) .Values.report.configMap }}
{{- end }}

{{- define "netverify.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "netverify.probeImage" -}}
{{ .Values.probe.image.repository }}:{{ default .Chart.AppVersion .Values.probe.image.tag }}
{{- end }}

{{/* The probe image pull secret as namespace and name; fails unless NS/NAME. */}}
{{- define "netverify.pullSecretParts" -}}
{{- $parts := splitList "/" .Values.probe.imagePullSecret }}
{{- if or (ne (len $parts) 2) (not (first $parts)) (not (last $parts)) }}
{{- fail (printf "probe.imagePullSecret %q: want NAMESPACE/NAME" .Values.probe.imagePullSecret) }}
{{- end }}
{{- toJson $parts }}
{{- end }}
