{{/*
mmo.validateOperations: the operations switches — KEDA, VPA, the Istio mesh, cost — against each other,
against the rest of the values and against the kinds the cluster serves. Same problem format as
_validate.tpl (one line per broken rule: key, what is wrong, fixes).
Usage: include "mmo.validateOperations" (dict "root" $ "state" $state)
*/}}
{{- define "mmo.validateOperations" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $a := $v.gameServer.autoscaling }}
{{- $k := $a.keda }}
{{- $caps := $root.Capabilities.APIVersions }}
{{- $crds := "offline renders with helm template name the kinds the cluster has with --api-versions" }}

{{- if $k.enabled }}
{{- if $a.enabled }}
{{- include "mmo.problem" (dict "state" .state "line" "gameServer.autoscaling.enabled is true but so is gameServer.autoscaling.keda.enabled: KEDA runs a HorizontalPodAutoscaler of its own, and two autoscalers on one Deployment would fight over its replica count. Fix: --set gameServer.autoscaling.enabled=false, or --set gameServer.autoscaling.keda.enabled=false") }}
{{- end }}
{{- $max := include "mmo.maxReplicas" $root | int }}
{{- if not (or $k.cron $k.prometheus.enabled $k.rabbitmq.enabled) }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "gameServer.autoscaling.keda.cron is empty and the prometheus and rabbitmq triggers are off, but gameServer.autoscaling.keda.enabled is true: KEDA would have nothing to scale on. Fix: --set-json %s, or --set gameServer.autoscaling.keda.enabled=false" (include "mmo.shellQuote" (printf "gameServer.autoscaling.keda.cron=[{\"timezone\":\"Asia/Seoul\",\"start\":\"0 19 * * *\",\"end\":\"0 2 * * *\",\"desiredReplicas\":%d}]" (min 20 $max))))) }}
{{- end }}
{{- range $i, $w := $k.cron }}
{{- if gt (int $w.desiredReplicas) $max }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "gameServer.autoscaling.maxReplicas (%d%s) is below gameServer.autoscaling.keda.cron[%d].desiredReplicas (%d): KEDA never scales above maxReplicas, so the schedule would get %d pods. Fix: --set gameServer.autoscaling.maxReplicas=%d, or --set gameServer.autoscaling.keda.cron[%d].desiredReplicas=%d" $max (ternary ", derived from capacity" "" (kindIs "invalid" $a.maxReplicas)) $i (int $w.desiredReplicas) $max (int $w.desiredReplicas) $i $max)) }}
{{- end }}
{{- end }}
{{- if and $k.prometheus.enabled (not $k.prometheus.serverAddress) }}
{{- include "mmo.problem" (dict "state" .state "line" "gameServer.autoscaling.keda.prometheus.serverAddress is empty but gameServer.autoscaling.keda.prometheus.enabled is true: KEDA needs the address of the Prometheus that scrapes the game servers. Fix: --set gameServer.autoscaling.keda.prometheus.serverAddress=http://prometheus-operated.monitoring.svc:9090, or --set gameServer.autoscaling.keda.prometheus.enabled=false") }}
{{- end }}
{{- if and $k.rabbitmq.enabled (not $k.rabbitmq.queueName) }}
{{- include "mmo.problem" (dict "state" .state "line" "gameServer.autoscaling.keda.rabbitmq.queueName is empty but gameServer.autoscaling.keda.rabbitmq.enabled is true: KEDA needs the queue whose length it scales on. Fix: --set gameServer.autoscaling.keda.rabbitmq.queueName=matchmaking, or --set gameServer.autoscaling.keda.rabbitmq.enabled=false") }}
{{- end }}
{{- $kinds := list "ScaledObject" }}
{{- if $k.rabbitmq.enabled }}{{ $kinds = append $kinds "TriggerAuthentication" }}{{ end }}
{{- $missing := list }}
{{- range $kinds }}{{ if not ($caps.Has (printf "keda.sh/v1alpha1/%s" .)) }}{{ $missing = append $missing . }}{{ end }}{{ end }}
{{- if $missing }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "gameServer.autoscaling.keda.enabled is true but the cluster has no %s kind (keda.sh/v1alpha1): KEDA is not installed (its Helm chart kedacore/keda installs the CRDs; %s). Fix: --set gameServer.autoscaling.keda.enabled=false, or %s" (join " or " $missing) $crds (include "mmo.apiVersionsFlags" (list "keda.sh/v1alpha1" $kinds)))) }}
{{- end }}
{{- end }}

{{- if $v.vpa.enabled }}
{{- $mode := $v.vpa.gameServer.updateMode }}
{{- $cpu := int $a.targetCPUUtilizationPercentage }}
{{- $mem := int $a.targetMemoryUtilizationPercentage }}
{{- if and (ne $mode "Off") $a.enabled (or (gt $cpu 0) (gt $mem 0)) }}
{{- $on := list }}
{{- if gt $cpu 0 }}{{ $on = append $on (printf "CPU (gameServer.autoscaling.targetCPUUtilizationPercentage %d)" $cpu) }}{{ end }}
{{- if gt $mem 0 }}{{ $on = append $on (printf "memory (gameServer.autoscaling.targetMemoryUtilizationPercentage %d)" $mem) }}{{ end }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "vpa.gameServer.updateMode is %s but the HorizontalPodAutoscaler scales the same game servers on %s: VPA would change the requests the HPA's utilisation is measured against, and the two would chase each other. Only Off (recommend) goes with a CPU or memory HPA. Fix: --set vpa.gameServer.updateMode=Off, or --set gameServer.autoscaling.targetCPUUtilizationPercentage=0 --set gameServer.autoscaling.targetMemoryUtilizationPercentage=0 --set gameServer.autoscaling.playersPerPod.enabled=true" $mode (join " and " $on))) }}
{{- end }}
{{- if not ($caps.Has "autoscaling.k8s.io/v1/VerticalPodAutoscaler") }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "vpa.enabled is true but the cluster has no VerticalPodAutoscaler kind (autoscaling.k8s.io/v1): the Vertical Pod Autoscaler is not installed (its CRDs come with it; %s). Fix: --set vpa.enabled=false, or --api-versions autoscaling.k8s.io/v1/VerticalPodAutoscaler" $crds)) }}
{{- end }}
{{- end }}

{{- $m := $v.mesh.istio }}
{{- if $m.enabled }}
{{- if has $v.udp.mode (list "hostPort" "hostNetwork") }}
{{- $why := ternary "on the host network Istio injects no sidecar, so the game servers would be outside the mesh whose mutual TLS their data stores require" "a host port maps the node's traffic into the pod beside the sidecar's traffic capture, a combination the chart does not support" (eq $v.udp.mode "hostNetwork") }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "udp.mode is %s but mesh.istio.enabled is true: %s. UDP never goes through the mesh; udp.mode nodePort keeps the UDP port out of the sidecar's way (docs/networking.md). Fix: --set udp.mode=nodePort, or --set mesh.istio.enabled=false" $v.udp.mode $why)) }}
{{- end }}
{{- $wanted := list (list "security.istio.io/v1" "PeerAuthentication") (list "networking.istio.io/v1" "DestinationRule") }}
{{- if and $v.canary.enabled (not (kindIs "invalid" $m.canaryWeight)) }}{{ $wanted = append $wanted (list "networking.istio.io/v1" "VirtualService") }}{{ end }}
{{- $missing := list }}
{{- range $wanted }}{{ if not ($caps.Has (printf "%s/%s" (index . 0) (index . 1))) }}{{ $missing = append $missing . }}{{ end }}{{ end }}
{{- if $missing }}
{{- $names := list }}{{ $flags := list }}
{{- range $missing }}{{ $names = append $names (printf "%s (%s)" (index . 1) (index . 0)) }}{{ $flags = append $flags (printf "--api-versions %s/%s" (index . 0) (index . 1)) }}{{ end }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "mesh.istio.enabled is true but the cluster has no %s kind: Istio is not installed (istioctl install or its base chart installs the CRDs; %s). Fix: --set mesh.istio.enabled=false, or %s" (join " or " $names) $crds (join " " $flags))) }}
{{- end }}
{{- end }}

{{- if and $v.cost.enabled (not $v.monitoring.prometheusRule.enabled) }}
{{- include "mmo.problem" (dict "state" .state "line" "monitoring.prometheusRule.enabled is false but cost.enabled is true: the cost per player-hour is recorded by the chart's PrometheusRule, which is off. Fix: --set monitoring.prometheusRule.enabled=true, or --set cost.enabled=false") }}
{{- end }}
{{- end }}

{{/*
mmo.apiVersionsFlags: "--api-versions g/v/K1 --api-versions g/v/K2" for one group/version and kinds.
Usage: include "mmo.apiVersionsFlags" (list "keda.sh/v1alpha1" (list "ScaledObject"))
*/}}
{{- define "mmo.apiVersionsFlags" -}}
{{- $gv := index . 0 }}
{{- $flags := list }}
{{- range index . 1 }}{{ $flags = append $flags (printf "--api-versions %s/%s" $gv .) }}{{ end }}
{{- join " " $flags }}
{{- end }}
