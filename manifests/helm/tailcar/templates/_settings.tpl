{{- /*
The TAILCAR_WEBHOOK_ variable of each key of .Values.settings. Written by npm run docs:settings from
webhook/injection-rows.ts and webhook/webhook-rows.ts: edit the rows, not this file.
*/ -}}
{{- define "tailcar.settingEnvNames" -}}
mode: TAILCAR_WEBHOOK_MODE
format: TAILCAR_WEBHOOK_FORMAT
maxLineBytes: TAILCAR_WEBHOOK_MAX_LINE_BYTES
forwardSink: TAILCAR_WEBHOOK_FORWARD_SINK
forwardEndpoint: TAILCAR_WEBHOOK_FORWARD_ENDPOINT
image: TAILCAR_WEBHOOK_IMAGE
imagePullPolicy: TAILCAR_WEBHOOK_IMAGE_PULL_POLICY
cpuRequest: TAILCAR_WEBHOOK_CPU_REQUEST
memoryRequest: TAILCAR_WEBHOOK_MEMORY_REQUEST
cpuLimit: TAILCAR_WEBHOOK_CPU_LIMIT
memoryLimit: TAILCAR_WEBHOOK_MEMORY_LIMIT
sidecarMetrics: TAILCAR_WEBHOOK_SIDECAR_METRICS
reclaim: TAILCAR_WEBHOOK_RECLAIM
sidecarMode: TAILCAR_WEBHOOK_SIDECAR_MODE
checkpointVolumeSizeLimit: TAILCAR_WEBHOOK_CHECKPOINT_VOLUME_SIZE_LIMIT
maxSidecarsPerPod: TAILCAR_WEBHOOK_MAX_SIDECARS_PER_POD
tlsReloadInterval: TAILCAR_WEBHOOK_TLS_RELOAD_INTERVAL
certIp: TAILCAR_WEBHOOK_CERT_IP
shutdownGrace: TAILCAR_WEBHOOK_SHUTDOWN_GRACE
reportMissedPods: TAILCAR_WEBHOOK_REPORT_MISSED_PODS
missedPodsInterval: TAILCAR_WEBHOOK_MISSED_PODS_INTERVAL
{{- end -}}
