{{/*
mmo.datastoreServices: the client Service and the headless Service (StatefulSet identity) of one
bundled data service.
Usage: include "mmo.datastoreServices" (dict "root" $ "name" .. "component" .. "port" 5432 "portName" "postgres")
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
