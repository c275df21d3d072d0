{{- /* Labels of every object: the kustomize base's part-of, and Helm's own. */ -}}
{{- define "tailcar.labels" -}}
app.kubernetes.io/part-of: tailcar
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- /* The webhook's pods, as the Deployment, Service, PDB and NetworkPolicy select them. */ -}}
{{- define "tailcar.selector" -}}
app.kubernetes.io/name: tailcar
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "tailcar.selfBootstrap" -}}
{{- $modes := list "self-bootstrap" "cert-manager" -}}
{{- if not (has .Values.tls.mode $modes) -}}
{{- fail (printf "tls.mode: %q is not one of %s" (toString .Values.tls.mode) (join ", " $modes)) -}}
{{- end -}}
{{- if eq .Values.tls.mode "self-bootstrap" }}true{{ end -}}
{{- end -}}

{{- /*
The container's environment for .Values.settings: one TAILCAR_WEBHOOK_ variable a key given
(lists comma-separated); a key that is not a setting fails the render, naming the known ones.
*/ -}}
{{- define "tailcar.settingsEnv" -}}
{{- $names := include "tailcar.settingEnvNames" . | fromYaml -}}
{{- range $key, $value := .Values.settings }}
{{- $env := get $names $key }}
{{- if not $env }}
{{- fail (printf "settings.%s: not a setting of the chart (known: %s)" $key (keys $names | sortAlpha | join ", ")) }}
{{- end }}
{{- if not (kindIs "invalid" $value) }}
- name: {{ $env }}
  value: {{ if kindIs "slice" $value }}{{ join "," $value | quote }}{{ else }}{{ toString $value | quote }}{{ end }}
{{- end }}
{{- end }}
{{- end -}}

{{- /* What both webhooks of the MutatingWebhookConfiguration share. */ -}}
{{- define "tailcar.webhookCommon" -}}
clientConfig:
  service:
    name: tailcar-webhook
    namespace: {{ .Release.Namespace }}
    path: /mutate
    port: 443
rules:
  - apiGroups: [""]
    apiVersions: ["v1"]
    operations: ["CREATE"]
    resources: ["pods"]
    scope: Namespaced
sideEffects: None
admissionReviewVersions: ["v1"]
failurePolicy: {{ .Values.admission.failurePolicy }}
reinvocationPolicy: IfNeeded
timeoutSeconds: {{ .Values.admission.timeoutSeconds }}
matchPolicy: Equivalent
{{- end -}}
{{- define "tailcar.namespaceRequirements" -}}
- key: kubernetes.io/metadata.name
  operator: NotIn
  values: {{ concat .Values.admission.excludedNamespaces (list .Release.Namespace) | uniq | toJson }}
{{- with .Values.admission.namespaceSelector.matchExpressions }}
{{ toYaml . }}
{{- end }}
{{- end -}}
