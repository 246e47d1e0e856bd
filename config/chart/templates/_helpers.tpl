{{/* The chart's name, shortened to the 63 characters a label value allows. */}}
{{- define "mlautoscale.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of the release's objects: the release name alone when it already contains the chart's name. */}}
{{- define "mlautoscale.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mlautoscale.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlautoscale.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mlautoscale.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "mlautoscale.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mlautoscale
{{- end }}

{{- define "mlautoscale.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mlautoscale.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The operator's permissions on the workloads it manages, shared by the ClusterRole (all namespaces) and the
per-namespace Roles (watchNamespaces). Server-side apply of an object that does not exist yet is a create,
so every kind it applies has create as well as patch. It never reads Secrets.
*/}}
{{- define "mlautoscale.rules" -}}
- apiGroups: ["mlautoscale.io"]
  resources: ["mlautoscalepolicies"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["mlautoscale.io"]
  resources: ["mlautoscalepolicies/status"]
  verbs: ["patch"]
# Children carry an owner reference with blockOwnerDeletion, which clusters with the
# OwnerReferencesPermissionEnforcement admission plugin only allow to whoever may update the owner's finalizers.
- apiGroups: ["mlautoscale.io"]
  resources: ["mlautoscalepolicies/finalizers"]
  verbs: ["update"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["apps"]
  resources: ["deployments/scale"]
  verbs: ["patch"]
# StatefulSets are only read: a policy may name one as its scale target.
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["keda.sh"]
  resources: ["scaledobjects", "triggerauthentications"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
