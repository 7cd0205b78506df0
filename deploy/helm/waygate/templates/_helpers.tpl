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
{{- if not .Values.mongodb.existingSecret -}}
{{- fail "waygate: .Values.mongodb.existingSecret is required (name of an existing Secret with the MongoDB URI under .Values.mongodb.uriKey)." -}}
{{- end -}}
{{- if not .Values.tenants.existingSecret -}}
{{- fail "waygate: .Values.tenants.existingSecret is required (name of an existing Secret with the tenants YAML under .Values.tenants.key)." -}}
{{- end -}}
{{- $needsToken := false -}}
{{- range $name := list "ingress" "delivery-retry" "receipt" "archive" -}}
{{- if (index $.Values.services $name | default dict).enabled -}}{{- $needsToken = true -}}{{- end -}}
{{- end -}}
{{- if and $needsToken (not .Values.internalServiceToken.existingSecret) -}}
{{- fail "waygate: .Values.internalServiceToken.existingSecret is required (name of an existing Secret with the region-internal service token every service shares)." -}}
{{- end -}}
{{- $media := index .Values.services "media-store" | default dict -}}
{{- if and $media.enabled (not .Values.media.encryptionKey.existingSecret) -}}
{{- fail "waygate: .Values.media.encryptionKey.existingSecret is required (name of an existing Secret with the 32-byte base64 media encryption key)." -}}
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
- name: WAYGATE_MONGODB_URI
  valueFrom:
    secretKeyRef:
      name: {{ $v.mongodb.existingSecret | quote }}
      key: {{ $v.mongodb.uriKey | quote }}
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
      name: {{ $v.internalServiceToken.existingSecret | quote }}
      key: {{ $v.internalServiceToken.key | quote }}
{{- end }}
{{- if eq .name "receipt" }}
{{- $mediaStore := index $v.services "media-store" }}
- name: WAYGATE_MEDIA_STORE_ADDRESS
  value: {{ printf "%s:%v" (include "waygate.serviceName" (dict "root" .root "name" "media-store")) $mediaStore.ports.grpc | quote }}
{{- end }}
{{- if eq .name "media-store" }}
- name: WAYGATE_MEDIA_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.media.encryptionKey.existingSecret | quote }}
      key: {{ $v.media.encryptionKey.key | quote }}
{{- end }}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: OTEL_SERVICE_NAME
  value: {{ .name | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=waygate,service.version=%s,waygate.region=%s,k8s.namespace.name=$(K8S_NAMESPACE_NAME),k8s.pod.name=$(K8S_POD_NAME)" (toString ($v.image.tag | default .root.Chart.AppVersion)) (toString $v.region) | quote }}
{{- /* No endpoint = no exporter; the SDK still runs so logs carry trace ids. */}}
{{- with $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with .svc.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
