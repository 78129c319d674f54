{{/*
mmo.datastoreServices: the client Service and the headless Service (StatefulSet identity) of one
bundled data service. With "metricsPort", the client Service also carries the "metrics" port (the
headless one never does, so a ServiceMonitor selecting both scrapes each pod once).
Usage: include "mmo.datastoreServices" (dict "root" $ "name" .. "component" .. "port" 5432 "portName" "postgres" ["metricsPort" 9187])
*/}}
{{- define "mmo.datastoreServices" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "mmo.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "mmo.selectorLabels" (dict "root" .root "component" .component) | nindent 4 }}
  ports:
    - name: {{ .portName }}
      port: {{ .port }}
      targetPort: {{ .portName }}
      protocol: TCP
    {{- with .metricsPort }}
    - name: metrics
      port: {{ . }}
      targetPort: metrics
      protocol: TCP
    {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}-headless
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "mmo.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "mmo.selectorLabels" (dict "root" .root "component" .component) | nindent 4 }}
  ports:
    - name: {{ .portName }}
      port: {{ .port }}
      targetPort: {{ .portName }}
      protocol: TCP
{{- end }}

{{/*
mmo.volumeClaimTemplate: the data volume of one bundled data service.
Usage: include "mmo.volumeClaimTemplate" .Values.postgres.persistence
*/}}
{{- define "mmo.volumeClaimTemplate" -}}
- metadata:
    name: data
  spec:
    accessModes: ["ReadWriteOnce"]
    {{- with .storageClass }}
    storageClassName: {{ . }}
    {{- end }}
    resources:
      requests:
        storage: {{ .size }}
{{- end }}

{{/*
mmo.passwordRef: secretKeyRef body of a bundled service's password (its own Secret or the user's).
Usage: include "mmo.passwordRef" (dict "name" <generated secret name> "auth" .Values.postgres.auth)
*/}}
{{- define "mmo.passwordRef" -}}
{{- if .auth.existingSecret }}
name: {{ .auth.existingSecret }}
key: {{ .auth.passwordKey }}
{{- else }}
name: {{ .name }}
key: password
{{- end }}
{{- end }}

{{/*
mmo.datastoreEgress: an egress rule to one data service: its pods when bundled, else the external
address ranges on the external port.
Usage: include "mmo.datastoreEgress" (dict "root" $ "svc" .Values.redis "component" "redis" "port" 6379)
*/}}
{{- define "mmo.datastoreEgress" -}}
{{- if .svc.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "mmo.selectorLabels" (dict "root" .root "component" .component) | nindent 10 }}
  ports:
    - port: {{ .port }}
      protocol: TCP
{{- else }}
- to:
    {{- range .svc.external.cidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - port: {{ .svc.external.port }}
      protocol: TCP
{{- end }}
{{- end }}

{{/*
mmo.datastoreStatefulSet: the StatefulSet of one bundled data service, with what every data store
takes from its values: pod labels and annotations, scheduling, pull secrets, extra env, volumes,
mounts, init containers and sidecars, an existing claim or the chart's volume claim template, and the
claim retention policy. "container" is the main container (YAML); "exporter" an optional metrics
sidecar (YAML); "volumes" the store's own volumes.
Usage: include "mmo.datastoreStatefulSet" (dict "root" $ "key" "postgres" "name" .. "component" .. "uid" 999 "gracePeriod" 60 "container" (include …) "exporter" (include …) "volumes" (list …))
*/}}
{{- define "mmo.datastoreStatefulSet" -}}
{{- $root := .root }}
{{- $v := index $root.Values .key }}
{{- $selector := include "mmo.selectorLabels" (dict "root" $root "component" .component) | fromYaml }}
{{- $main := .container | fromYaml }}
{{- with $v.extraEnv }}{{ $_ := set $main "env" (concat ($main.env | default list) .) }}{{ end }}
{{- with $v.extraEnvFrom }}{{ $_ := set $main "envFrom" . }}{{ end }}
{{- with $v.extraVolumeMounts }}{{ $_ := set $main "volumeMounts" (concat $main.volumeMounts .) }}{{ end }}
{{- $containers := list $main }}
{{- with .exporter }}{{ $containers = append $containers (fromYaml .) }}{{ end }}
{{- $retention := $v.persistence.retentionPolicy }}
{{- $mesh := include "mmo.meshPod" (dict "root" $root) | fromJson }}
{{- $podLabels := merge (deepCopy ($v.podLabels | default dict)) $mesh.labels }}
{{- $podAnnotations := merge (deepCopy ($v.podAnnotations | default dict)) $mesh.annotations }}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mmo.labels" (dict "root" $root "component" .component "version" $v.image.tag) | nindent 4 }}
spec:
  replicas: 1
  serviceName: {{ .name }}-headless
  selector:
    matchLabels:
      {{- toYaml $selector | nindent 6 }}
  {{- if or $retention.whenDeleted $retention.whenScaled }}
  persistentVolumeClaimRetentionPolicy:
    whenDeleted: {{ $retention.whenDeleted | default "Retain" }}
    whenScaled: {{ $retention.whenScaled | default "Retain" }}
  {{- end }}
  template:
    metadata:
      labels:
        {{- include "mmo.labels" (dict "root" $root "component" .component "version" $v.image.tag "extra" $podLabels) | nindent 8 }}
      {{- with $podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ .name }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        {{- include "mmo.podSecurityContext" (dict "root" $root "uid" .uid) | nindent 8 }}
      {{- include "mmo.pullSecrets" $root | nindent 6 }}
      {{- include "mmo.podScheduling" (dict "root" $root "values" $v "selector" $selector) | nindent 6 }}
      {{- with .gracePeriod }}
      terminationGracePeriodSeconds: {{ . }}
      {{- end }}
      {{- with $v.initContainers }}
      initContainers:
        {{- include "mmo.extraContainers" . | nindent 8 }}
      {{- end }}
      containers:
        {{- toYaml $containers | nindent 8 }}
        {{- include "mmo.extraContainers" $v.sidecars | nindent 8 }}
      volumes:
        {{- toYaml (concat .volumes $v.extraVolumes) | nindent 8 }}
        {{- with $v.persistence.existingClaim }}
        - name: data
          persistentVolumeClaim:
            claimName: {{ . }}
        {{- end }}
  {{- if not $v.persistence.existingClaim }}
  volumeClaimTemplates:
    {{- include "mmo.volumeClaimTemplate" $v.persistence | nindent 4 }}
  {{- end }}
{{- if $v.pdb.enabled }}
---
# A single data-store pod: node drains stop at it until you move it yourself, so a restart of the
# store is a decision, not a side effect of maintenance. A pod that is not ready may always go.
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mmo.labels" (dict "root" $root "component" .component) | nindent 4 }}
spec:
  minAvailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- toYaml $selector | nindent 6 }}
{{- end }}
{{- end }}

{{/*
mmo.exporterContainer: a Prometheus exporter next to a data store, on the "metrics" port.
Usage: include "mmo.exporterContainer" (dict "root" $ "values" .Values.redis.metrics "port" 9121 "env" (list …))
*/}}
{{- define "mmo.exporterContainer" -}}
name: metrics
image: {{ include "mmo.image" (merge (dict "root" .root) .values.image) }}
imagePullPolicy: {{ .values.image.pullPolicy }}
env:
  {{- toYaml .env | nindent 2 }}
ports:
  - name: metrics
    containerPort: {{ .port }}
    protocol: TCP
resources:
  {{- toYaml .values.resources | nindent 2 }}
securityContext:
  {{- include "mmo.containerSecurityContext" . | nindent 2 }}
{{- end }}
