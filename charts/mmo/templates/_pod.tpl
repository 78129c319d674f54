{{/*
What every pod of the chart takes from values the same way: pull secrets, scheduling (node selector,
tolerations, affinity, priority, topology spread), and the containers and volumes a studio adds.
Workloads: gameServer (stable and canary), postgres, redis, rabbitmq, migrations (the Job), tests
(the helm test pod).
*/}}

{{/*
mmo.pullSecrets: imagePullSecrets of every pod: imagePullSecrets, then global.imagePullSecrets
(names or {name}), each name once. Renders nothing when there are none.
Usage: include "mmo.pullSecrets" $ | nindent 6
*/}}
{{- define "mmo.pullSecrets" -}}
{{- $names := list }}
{{- range concat .Values.imagePullSecrets .Values.global.imagePullSecrets }}
{{- if kindIs "string" . }}{{ $names = append $names . }}{{ else }}{{ $names = append $names .name }}{{ end }}
{{- end }}
{{- with uniq $names }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
mmo.podScheduling: priorityClassName, nodeSelector, tolerations, affinity and topologySpreadConstraints
of one workload's pods. "affinity" and "spread" are the chart's own (the game servers' anti-affinity
and zone spread): the workload's podAntiAffinity terms are added to the chart's, its other affinity
is taken as given, and its topologySpreadConstraints replace the chart's spread. A constraint without
a labelSelector selects the workload's own pods ("selector"). With "root", the release's region
preference (mmo.regionAffinity) is added like the chart's own affinity.
Usage: include "mmo.podScheduling" (dict "root" $ "values" .Values.postgres "selector" (dict …) ["affinity" (dict …)] ["spread" (list …)]) | nindent 6
*/}}
{{- define "mmo.podScheduling" -}}
{{- $v := .values }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $affinity := deepCopy ($v.affinity | default dict) }}
{{- $chart := deepCopy (.affinity | default dict) }}
{{- if .root }}{{ $chart = merge $chart (include "mmo.regionAffinity" .root | fromJson) }}{{ end }}
{{- range $kind, $terms := $chart }}
{{- $own := get $affinity $kind | default dict }}
{{- range $when, $list := $terms }}{{ $_ := set $own $when (concat $list (get $own $when | default list)) }}{{ end }}
{{- $_ := set $affinity $kind $own }}
{{- end }}
{{- with $affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $spread := list }}
{{- range $v.topologySpreadConstraints }}
{{- $spread = append $spread (ternary . (merge (dict "labelSelector" (dict "matchLabels" $.selector)) .) (hasKey . "labelSelector")) }}
{{- end }}
{{- with $spread | default .spread }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
mmo.extraContainers: a workload's sidecars or initContainers as given, each without a securityContext
of its own given the chart's (restricted, read-only root).
Usage: include "mmo.extraContainers" .Values.postgres.sidecars | nindent 8
*/}}
{{- define "mmo.extraContainers" -}}
{{- range . }}
{{- $c := deepCopy . }}
{{- if not (hasKey $c "securityContext") }}{{ $_ := set $c "securityContext" (include "mmo.containerSecurityContext" . | fromYaml) }}{{ end }}
- {{ toYaml $c | nindent 2 | trim }}
{{- end }}
{{- end }}
