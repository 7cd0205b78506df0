{{/*
Validate values that have no safe default. Every template includes this first,
so the region error is always the first one reported.
*/}}
{{- define "waygate.validate" -}}
{{- $region := toString (.Values.region | default "") -}}
{{- if eq $region "" -}}
{{- fail "waygate: .Values.region is required and has no default. Set it to \"eu\" or \"us\" (e.g. -f deploy/helm/waygate/values-eu.yaml or --set region=eu); install one release per region." -}}
{{- end -}}
{{- if not (has $region (list "eu" "us")) -}}
{{- fail (printf "waygate: .Values.region must be \"eu\" or \"us\", got %q." $region) -}}
{{- end -}}
{{- if not .Values.nats.url -}}
{{- fail (printf "waygate: .Values.nats.url is required (the %s region's NATS JetStream, e.g. nats://nats:4222)." $region) -}}
{{- end -}}
{{- if not (regexMatch "^(nats|tls)://\\S+$" .Values.nats.url) -}}
{{- fail (printf "waygate: .Values.nats.url must be a nats:// or tls:// URL, got %q." .Values.nats.url) -}}
{{- end -}}
{{- $levels := list "fatal" "error" "warn" "info" "debug" "trace" "silent" -}}
{{- if not (has .Values.logLevel $levels) -}}
{{- fail (printf "waygate: .Values.logLevel must be one of %s, got %q." (join ", " $levels) (toString .Values.logLevel)) -}}
{{- end -}}
{{- if not (or .Values.mongodb.existingSecret .Values.mongodb.uri) -}}
{{- fail "waygate: .Values.mongodb.existingSecret (a Secret with the whole MongoDB URI under .Values.mongodb.uriKey) or .Values.mongodb.uri (this region's URI without credentials, plus .Values.mongodb.credentials.existingSecret) is required." -}}
{{- end -}}
{{- if and (not .Values.mongodb.existingSecret) .Values.mongodb.uri -}}
{{- if not (regexMatch "^mongodb(\\+srv)?://[^@/]+(/.*)?$" .Values.mongodb.uri) -}}
{{- fail (printf "waygate: .Values.mongodb.uri must be a mongodb:// or mongodb+srv:// URI without credentials (they come from .Values.mongodb.credentials.existingSecret), got %q." .Values.mongodb.uri) -}}
{{- end -}}
{{- end -}}
{{- if not (or .Values.tenants.existingSecret .Values.tenants.content) -}}
{{- fail "waygate: .Values.tenants.existingSecret is required (name of an existing Secret with the tenants YAML under .Values.tenants.key), or set .Values.tenants.content." -}}
{{- end -}}
{{- $needsToken := false -}}
{{- range $name := list "ingress" "delivery-retry" "receipt" "archive" -}}
{{- if (index $.Values.services $name | default dict).enabled -}}{{- $needsToken = true -}}{{- end -}}
{{- end -}}
{{- if and $needsToken (not (or .Values.internalServiceToken.existingSecret .Values.internalServiceToken.value)) -}}
{{- fail "waygate: .Values.internalServiceToken.existingSecret is required (name of an existing Secret with the region-internal service token every service shares), or set .Values.internalServiceToken.value." -}}
{{- end -}}
{{- $needsKek := false -}}
{{- range $name := list "media-store" "ingress" "delivery-retry" -}}
{{- if (index $.Values.services $name | default dict).enabled -}}{{- $needsKek = true -}}{{- end -}}
{{- end -}}
{{- if and $needsKek (not (or .Values.media.kek.existingSecret .Values.media.kek.value)) -}}
{{- fail "waygate: .Values.media.kek.existingSecret is required (name of an existing Secret with the region keyring's key-encryption key file, used by media-store, ingress and delivery-retry: base64 of 32 bytes per line, active first), or set .Values.media.kek.value." -}}
{{- end -}}
{{- if and (index .Values.services "ingress" | default dict).enabled (not (or .Values.verification.secret.existingSecret .Values.verification.secret.value)) -}}
{{- fail "waygate: .Values.verification.secret.existingSecret is required (name of an existing Secret with the region's verification secret, at least 32 characters: verification codes are stored as HMACs under it), or set .Values.verification.secret.value." -}}
{{- end -}}
{{- if and (index .Values.services "archive" | default dict).enabled (not (or .Values.archiveLog.signingKey.existingSecret .Values.archiveLog.signingKey.value)) -}}
{{- fail "waygate: .Values.archiveLog.signingKey.existingSecret is required (name of an existing Secret with the region's archive log signing key, base64 of a 32-byte Ed25519 seed), or set .Values.archiveLog.signingKey.value." -}}
{{- end -}}
{{- if .Values.ingress.enabled -}}
{{- if not .Values.ingress.host -}}
{{- fail "waygate: .Values.ingress.host is required when .Values.ingress.enabled (the public HTTPS host Meta calls for receipt's webhook)." -}}
{{- end -}}
{{- if not .Values.ingress.tls.secretName -}}
{{- fail "waygate: .Values.ingress.tls.secretName is required when .Values.ingress.enabled (Meta only calls HTTPS webhook URLs)." -}}
{{- end -}}
{{- end -}}
{{- if and .Values.gatewayApi.enabled (not (and .Values.gatewayApi.host .Values.gatewayApi.parentRefs)) -}}
{{- fail "waygate: .Values.gatewayApi.host and .Values.gatewayApi.parentRefs are required when .Values.gatewayApi.enabled (the webhook host and the Gateway whose HTTPS listener serves it)." -}}
{{- end -}}
{{- if .Values.tls.enabled -}}
{{- if not .Values.tls.secretName -}}
{{- fail "waygate: .Values.tls.secretName is required when .Values.tls.enabled (a kubernetes.io/tls Secret with tls.crt, tls.key and the CA under .Values.tls.caKey, e.g. from cert-manager; deploy/README.md)." -}}
{{- end -}}
{{- if not .Values.metrics.enabled -}}
{{- fail "waygate: .Values.tls.enabled needs .Values.metrics.enabled: with TLS on the gRPC port the probes use the metrics port's plaintext /readyz and /livez." -}}
{{- end -}}
{{- end -}}
{{- if .Values.tls.clientAuth.enabled -}}
{{- if not .Values.tls.enabled -}}
{{- fail "waygate: .Values.tls.clientAuth.enabled needs .Values.tls.enabled (client certificates are asked for in the TLS handshake)." -}}
{{- end -}}
{{- if empty .Values.tls.clientAuth.services -}}
{{- fail "waygate: .Values.tls.clientAuth.services must name at least one service when .Values.tls.clientAuth.enabled (e.g. [ingress])." -}}
{{- end -}}
{{- range .Values.tls.clientAuth.services -}}
{{- if not (hasKey $.Values.services .) -}}
{{- fail (printf "waygate: .Values.tls.clientAuth.services names %q, which is not a service of this chart (%s)." . (join ", " (keys $.Values.services | sortAlpha))) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name := list "delivery-retry" "receipt" -}}
{{- $svc := index $.Values.services $name | default dict -}}
{{- if and $svc.enabled ($svc.keda | default dict).enabled (not $.Values.keda.natsMonitoringEndpoint) -}}
{{- fail (printf "waygate: .Values.keda.natsMonitoringEndpoint is required when services.%s.keda.enabled (host:port of NATS's HTTP monitor, e.g. nats.waygate-eu.svc:8222)." $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Chart name. */}}
{{- define "waygate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Release-wide base name. "waygate-eu" stays "waygate-eu"; "prod" becomes "prod-waygate".
Kept to 48 chars so "<fullname>-<service>" fits in 63.
*/}}
{{- define "waygate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 48 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Per-service resource name. Call with (dict "root" $ "name" "ingress"). */}}
{{- define "waygate.serviceName" -}}
{{- printf "%s-%s" (include "waygate.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "waygate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Image reference. Call with (dict "root" $ "name" "ingress"). */}}
{{- define "waygate.image" -}}
{{- $img := .root.Values.image -}}
{{- printf "%s/%s:%s" $img.repository .name (toString ($img.tag | default .root.Chart.AppVersion)) -}}
{{- end -}}

{{/* Selector labels (immutable: never add region/version here). Call with (dict "root" $ "name" "ingress"). */}}
{{- define "waygate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "waygate.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Common labels. Call with (dict "root" $ "name" "ingress"). */}}
{{- define "waygate.labels" -}}
helm.sh/chart: {{ include "waygate.chart" .root }}
{{ include "waygate.selectorLabels" . }}
app.kubernetes.io/part-of: waygate
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | toString | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
waygate.io/region: {{ .root.Values.region | toString | quote }}
{{- end -}}

{{/* host:port of this release's delivery-retry Service (gRPC). Call with the root context. */}}
{{- define "waygate.deliveryAddress" -}}
{{- $delivery := index .Values.services "delivery-retry" | default dict -}}
{{- $port := (($delivery.ports | default dict).grpc | default 50055) -}}
{{- printf "%s:%v" (include "waygate.serviceName" (dict "root" . "name" "delivery-retry")) $port -}}
{{- end -}}

{{/*
Container env for one service. Call with (dict "root" $ "name" "ingress" "svc" $svc).
*/}}
{{- define "waygate.env" -}}
{{- $v := .root.Values -}}
- name: WAYGATE_REGION
  value: {{ $v.region | toString | quote }}
- name: WAYGATE_NATS_URL
  value: {{ $v.nats.url | quote }}
# Production storage only; the chart does not support the local/sqlite backend.
- name: WAYGATE_STORAGE
  value: "mongodb"
{{- if $v.mongodb.existingSecret }}
- name: WAYGATE_MONGODB_URI
  valueFrom:
    secretKeyRef:
      name: {{ $v.mongodb.existingSecret | quote }}
      key: {{ $v.mongodb.uriKey | quote }}
{{- else if $v.mongodb.credentials.existingSecret }}
# The region's pinned URI with the credentials from a Secret ($(VAR) is expanded by Kubernetes).
- name: WAYGATE_MONGODB_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $v.mongodb.credentials.existingSecret | quote }}
      key: {{ $v.mongodb.credentials.usernameKey | quote }}
- name: WAYGATE_MONGODB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.mongodb.credentials.existingSecret | quote }}
      key: {{ $v.mongodb.credentials.passwordKey | quote }}
- name: WAYGATE_MONGODB_URI
  value: {{ regexReplaceAll "^(mongodb(\\+srv)?://)" $v.mongodb.uri "${1}$$(WAYGATE_MONGODB_USERNAME):$$(WAYGATE_MONGODB_PASSWORD)@" | quote }}
{{- else }}
- name: WAYGATE_MONGODB_URI
  value: {{ $v.mongodb.uri | quote }}
{{- end }}
- name: WAYGATE_TENANTS_FILE
  value: {{ printf "%s/tenants.yaml" (trimSuffix "/" $v.tenants.mountPath) | quote }}
- name: WAYGATE_LOG_LEVEL
  value: {{ .svc.logLevel | default $v.logLevel | quote }}
# Services listen on loopback by default (safe for local runs); in a pod they must listen on all interfaces.
- name: WAYGATE_GRPC_HOST
  value: "0.0.0.0"
- name: WAYGATE_GRPC_PORT
  value: {{ .svc.ports.grpc | quote }}
{{- with .svc.ports.http }}
- name: WAYGATE_HTTP_HOST
  value: "0.0.0.0"
- name: WAYGATE_HTTP_PORT
  value: {{ . | quote }}
{{- end }}
{{- if has .name (list "delivery-retry" "receipt") }}
- name: WAYGATE_WHATSAPP_API_BASE_URL
  value: {{ $v.whatsapp.apiBaseUrl | quote }}
{{- with $v.whatsapp.apiVersion }}
- name: WAYGATE_WHATSAPP_API_VERSION
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- if eq .name "ingress" }}
# CancelMessage asks this release's delivery-retry (DeliveryAdminService) to stop a message.
- name: WAYGATE_DELIVERY_ADDRESS
  value: {{ .svc.deliveryAddress | default (include "waygate.deliveryAddress" .root) | quote }}
{{- end }}
{{- /* ingress calls delivery-retry's internal admin API with it; receipt stores inbound media in media-store with it;
every service that runs consumers (all but media-store) serves its dead-letter admin API only to it. */}}
{{- if has .name (list "ingress" "delivery-retry" "receipt" "archive" "media-store") }}
- name: WAYGATE_INTERNAL_SERVICE_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $v.internalServiceToken.existingSecret | default (include "waygate.managedSecretName" .root) | quote }}
      key: {{ $v.internalServiceToken.key | quote }}
{{- end }}
{{- /* receipt stores inbound media there; ingress checks media sent by id there before accepting it; delivery-retry
reads those blobs to upload them to Meta. */}}
{{- if has .name (list "receipt" "ingress" "delivery-retry") }}
{{- $mediaStore := index $v.services "media-store" }}
- name: WAYGATE_MEDIA_STORE_ADDRESS
  value: {{ printf "%s:%v" (include "waygate.serviceName" (dict "root" .root "name" "media-store")) $mediaStore.ports.grpc | quote }}
{{- with $v.regionWebhookUrls }}
# Template and account webhooks of WABAs homed in another region are forwarded there (docs/residency.md).
- name: WAYGATE_REGION_WEBHOOK_URLS
  value: {{ toJson . | quote }}
{{- end }}
{{- end }}
{{- if has .name (list "media-store" "ingress" "delivery-retry") }}
# The region keyring's KEK file (mounted from the Secret; see media.kek): media-store's vault, and the sealed
# authentication codes ingress writes and delivery-retry opens.
- name: WAYGATE_KEYRING_KEK_FILE
  value: {{ printf "%s/kek" (trimSuffix "/" $v.media.kek.mountPath) | quote }}
{{- end }}
{{- if eq .name "ingress" }}
# Verification codes are stored only as HMACs under this region secret.
- name: WAYGATE_VERIFICATION_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $v.verification.secret.existingSecret | default (include "waygate.managedSecretName" .root) | quote }}
      key: {{ $v.verification.secret.key | quote }}
{{- end }}
{{- if eq .name "archive" }}
# The region's Ed25519 key that signs the archive log's checkpoints (docs/governance.md).
- name: WAYGATE_LOG_SIGNING_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.archiveLog.signingKey.existingSecret | default (include "waygate.managedSecretName" .root) | quote }}
      key: {{ $v.archiveLog.signingKey.key | quote }}
{{- end }}
{{- if eq .name "media-store" }}
{{- with .svc.ports.download }}
- name: WAYGATE_MEDIA_HTTP_HOST
  value: "0.0.0.0"
- name: WAYGATE_MEDIA_HTTP_PORT
  value: {{ . | quote }}
{{- end }}
{{- with $v.media.publicUrl }}
- name: WAYGATE_MEDIA_PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- end }}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: WAYGATE_DATA_DIR
  value: {{ .root.Values.volumes.data.mountPath | quote }}
{{- if $v.metrics.enabled }}
# GET /metrics (OTel's Prometheus exporter) on all interfaces at the metrics port.
- name: WAYGATE_METRICS_HOST
  value: "0.0.0.0"
- name: WAYGATE_METRICS_PORT
  value: {{ include "waygate.metricsPort" . | quote }}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ .name | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=waygate,service.version=%s,waygate.region=%s,k8s.namespace.name=$(K8S_NAMESPACE_NAME),k8s.pod.name=$(K8S_POD_NAME)" (toString ($v.image.tag | default .root.Chart.AppVersion)) (toString $v.region) | quote }}
{{- /* No endpoint = no exporter; the SDK still runs so logs carry trace ids. */}}
{{- with $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- if $v.tls.enabled }}
# gRPC over TLS (tls.*): this release's certificate; calls to the region's other services verify theirs against the CA.
- name: WAYGATE_TLS_CERT_FILE
  value: {{ printf "%s/tls.crt" (trimSuffix "/" $v.tls.mountPath) | quote }}
- name: WAYGATE_TLS_KEY_FILE
  value: {{ printf "%s/tls.key" (trimSuffix "/" $v.tls.mountPath) | quote }}
- name: WAYGATE_INTERNAL_TLS_CA_FILE
  value: {{ printf "%s/ca.crt" (trimSuffix "/" $v.tls.mountPath) | quote }}
{{- if include "waygate.tlsClientAuth" . }}
# Only clients with a certificate this CA signed are served (tls.clientAuth).
- name: WAYGATE_TLS_CLIENT_CA_FILE
  value: {{ printf "%s/ca.crt" (trimSuffix "/" (ternary $v.tls.clientAuth.mountPath $v.tls.mountPath (not (empty $v.tls.clientAuth.caSecretName)))) | quote }}
{{- end }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with .svc.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* "true" when this service requires client certificates (tls.clientAuth), else empty. Call with (dict "root" $ "name" "ingress" ...). */}}
{{- define "waygate.tlsClientAuth" -}}
{{- $tls := .root.Values.tls -}}
{{- if and $tls.enabled $tls.clientAuth.enabled (has .name $tls.clientAuth.services) -}}true{{- end -}}
{{- end -}}

{{/* "true" when this service mounts a separate client CA Secret (tls.clientAuth.caSecretName), else empty. */}}
{{- define "waygate.tlsClientCaVolume" -}}
{{- if and (include "waygate.tlsClientAuth" .) .root.Values.tls.clientAuth.caSecretName -}}true{{- end -}}
{{- end -}}


{{/* Name of the Secret the chart creates for values given inline (mongodb.uri, tenants.content, ...). */}}
{{- define "waygate.managedSecretName" -}}
{{- printf "%s-secrets" (include "waygate.fullname" .) -}}
{{- end -}}

{{/* The tenants Secret: existingSecret, else the chart's own. Call with the root context. */}}
{{- define "waygate.tenantsSecretName" -}}
{{- .Values.tenants.existingSecret | default (include "waygate.managedSecretName" .) | quote -}}
{{- end -}}

{{/* Metrics port of one service. Call with (dict "root" $ "name" "ingress" "svc" $svc). */}}
{{- define "waygate.metricsPort" -}}
{{- .svc.metricsPort | default .root.Values.metrics.port -}}
{{- end -}}

{{/* Autoscaling settings of one service: the global defaults overlaid with services.<name>.autoscaling. */}}
{{- define "waygate.autoscaling" -}}
{{- $merged := mergeOverwrite (deepCopy .root.Values.autoscaling) (.svc.autoscaling | default dict) -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* "true" when something else (HPA or KEDA) owns the replica count, else empty. */}}
{{- define "waygate.autoscaled" -}}
{{- $as := include "waygate.autoscaling" . | fromYaml -}}
{{- if or $as.enabled (include "waygate.kedaEnabled" .) -}}true{{- end -}}
{{- end -}}

{{/* "true" when this service gets a KEDA ScaledObject (delivery-retry and receipt only), else empty. */}}
{{- define "waygate.kedaEnabled" -}}
{{- if and (has .name (list "delivery-retry" "receipt")) (.svc.keda | default dict).enabled -}}true{{- end -}}
{{- end -}}
