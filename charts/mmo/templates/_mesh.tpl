{{/*
mmo.meshPod: what the Istio mesh (mesh.istio.enabled) adds to one pod template, as JSON
{"labels": {…}, "annotations": {…}}; empty maps when the mesh is off. Callers merge their workload's
own podLabels and podAnnotations over it, so a workload can opt out with sidecar.istio.io/inject "false".
- sidecar.istio.io/inject: the injection label (Istio's per-pod switch, namespace label not needed);
- sidecar.istio.io/nativeSidecar: the proxy runs as a Kubernetes native sidecar (an init container
  that keeps running), so init containers that call the API server (node-address) have a proxy, and
  the migration Job and the helm test pod end when their work does;
- traffic.sidecar.istio.io/exclude{Inbound,Outbound}Ports (game servers, "udp" set): the UDP port
  players send WebRTC data to is never intercepted. UDP never goes through the mesh.
Usage: $mesh := include "mmo.meshPod" (dict "root" $ ["udp" true]) | fromJson
*/}}
{{- define "mmo.meshPod" -}}
{{- $labels := dict }}
{{- $annotations := dict }}
{{- if .root.Values.mesh.istio.enabled }}
{{- $_ := set $labels "sidecar.istio.io/inject" "true" }}
{{- $_ := set $annotations "sidecar.istio.io/nativeSidecar" "true" }}
{{- if and .udp (include "mmo.udpEnabled" .root) }}
{{- $port := include "mmo.udpPort" .root }}
{{- $_ := set $annotations "traffic.sidecar.istio.io/excludeInboundPorts" $port }}
{{- $_ := set $annotations "traffic.sidecar.istio.io/excludeOutboundPorts" $port }}
{{- end }}
{{- end }}
{{- toJson (dict "labels" $labels "annotations" $annotations) }}
{{- end }}

{{/*
mmo.regionAffinity: the node affinity every pod gets when region.name is set — a preference (weight
100) for nodes labelled topology.kubernetes.io/region=<name>, in the shape mmo.podScheduling merges
with the workload's own affinity. Empty dict otherwise.
Usage: include "mmo.regionAffinity" $ | fromJson
*/}}
{{- define "mmo.regionAffinity" -}}
{{- $r := .Values.region }}
{{- if and $r.name $r.preferNodes }}
{{- $term := dict "weight" 100 "preference" (dict "matchExpressions" (list (dict "key" "topology.kubernetes.io/region" "operator" "In" "values" (list $r.name)))) }}
{{- toJson (dict "nodeAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list $term))) }}
{{- else }}{}{{- end }}
{{- end }}
