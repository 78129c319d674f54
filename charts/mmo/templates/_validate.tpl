{{/*
Cross-field checks that values.schema.json cannot express. Every broken rule adds one line naming the
key and the fix; all lines are reported together in one failure (validate.yaml).
*/}}

{{/*
mmo.quantity: a Kubernetes quantity ("250m", "1.5", "512Mi", "1G") as a float in base units.
*/}}
{{- define "mmo.quantity" -}}
{{- $s := toString . }}
{{- $num := regexFind "^[0-9]+(\\.[0-9]+)?" $s }}
{{- $suffix := trimPrefix $num $s }}
{{- $mult := dict "" 1.0 "m" 0.001 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 }}
{{- mulf (float64 $num) (index $mult $suffix | default 1.0) }}
{{- end }}

{{/*
mmo.validateResources: "requests ≤ limits" for one resources block. Appends to .errors.
*/}}
{{- define "mmo.validateResources" -}}
{{- $r := .resources | default dict }}
{{- range $res := list "cpu" "memory" }}
{{- $req := index ($r.requests | default dict) $res }}
{{- $lim := index ($r.limits | default dict) $res }}
{{- if and $req $lim }}
{{- if gt (include "mmo.quantity" $req | float64) (include "mmo.quantity" $lim | float64) }}
{{- $_ := set $.state "errors" (append $.state.errors (printf "%s.requests.%s (%v) is above %s.limits.%s (%v): a container cannot request more than its limit. Fix: --set %s.limits.%s=%v" $.path $res $req $.path $res $lim $.path $res $req)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mmo.validateValues" -}}
{{- $v := .Values }}
{{- $state := dict "errors" list }}

{{- range $svc := list (list "postgres" "postgres://user:password@host:5432/database") (list "redis" "redis://:password@host:6379/0") (list "rabbitmq" "amqp://user:password@host:5672") }}
{{- $key := index $svc 0 }}
{{- $s := index $v $key }}
{{- if not $s.enabled }}
{{- if not $s.external.host }}
{{- $_ := set $state "errors" (append $state.errors (printf "%s.external.host is empty but %s.enabled is false: the game servers need a %s to connect to. Fix: --set %s.external.host=<host>, or --set %s.enabled=true" $key $key $key $key $key)) }}
{{- end }}
{{- if not $s.external.existingSecret }}
{{- $_ := set $state "errors" (append $state.errors (printf "%s.external.existingSecret is empty but %s.enabled is false: the connection URL (%s) must come from a Secret. Fix: kubectl create secret generic <name> --from-literal=%s=<url>, then --set %s.external.existingSecret=<name>" $key $key (index $svc 1) $s.external.existingSecretKey $key)) }}
{{- end }}
{{- end }}
{{- end }}

{{- $a := $v.gameServer.autoscaling }}
{{- if $a.enabled }}
{{- $min := include "mmo.minReplicas" . | int }}
{{- $max := include "mmo.maxReplicas" . | int }}
{{- if gt $min $max }}
{{- $_ := set $state "errors" (append $state.errors (printf "gameServer.autoscaling.minReplicas (%d) is above gameServer.autoscaling.maxReplicas (%d). Fix: --set gameServer.autoscaling.maxReplicas=%d" $min $max $min)) }}
{{- end }}
{{- if and (eq (int $a.targetCPUUtilizationPercentage) 0) (eq (int $a.targetMemoryUtilizationPercentage) 0) (not $a.playersPerPod.enabled) }}
{{- $_ := set $state "errors" (append $state.errors "gameServer.autoscaling has no metric: targetCPUUtilizationPercentage and targetMemoryUtilizationPercentage are 0 and playersPerPod is off. Fix: --set gameServer.autoscaling.targetCPUUtilizationPercentage=70") }}
{{- end }}
{{- end }}

{{- $p := $v.gameServer.pdb }}
{{- if and $p.enabled (not (kindIs "invalid" $p.minAvailable)) }}
{{- $floor := include "mmo.minStableReplicas" . | int }}
{{- if ge (int $p.minAvailable) $floor }}
{{- $_ := set $state "errors" (append $state.errors (printf "gameServer.pdb.minAvailable (%d) is not below the %d stable game server pods: no pod could ever be evicted and node drains would hang. Fix: --set gameServer.pdb.minAvailable=%d, or use gameServer.pdb.maxUnavailable" (int $p.minAvailable) $floor (sub $floor 1 | max 0))) }}
{{- end }}
{{- end }}

{{- if le (int $v.gameServer.terminationGracePeriodSeconds) (int $v.gameServer.config.drainSeconds) }}
{{- $_ := set $state "errors" (append $state.errors (printf "gameServer.terminationGracePeriodSeconds (%d) must exceed gameServer.config.drainSeconds (%d), or pods are killed while players drain. Fix: --set gameServer.terminationGracePeriodSeconds=%d" (int $v.gameServer.terminationGracePeriodSeconds) (int $v.gameServer.config.drainSeconds) (add (int $v.gameServer.config.drainSeconds) 15))) }}
{{- end }}

{{- if gt (int $v.gameServer.config.patchRate) (int $v.gameServer.config.tickRate) }}
{{- $_ := set $state "errors" (append $state.errors (printf "gameServer.config.patchRate (%d) is above gameServer.config.tickRate (%d): there is nothing new to send between ticks. Fix: --set gameServer.config.patchRate=%d" (int $v.gameServer.config.patchRate) (int $v.gameServer.config.tickRate) (int $v.gameServer.config.tickRate))) }}
{{- end }}

{{- if and $v.canary.enabled (not $v.canary.image.tag) (not $v.canary.image.digest) }}
{{- $_ := set $state "errors" (append $state.errors "canary.image.tag is empty but canary.enabled is true: a canary of the stable image proves nothing. Fix: --set canary.image.tag=<new version>") }}
{{- end }}

{{- if and (eq $v.udp.mode "relay") (not $v.udp.iceServers) (not $v.udp.iceServersSecret.name) }}
{{- $_ := set $state "errors" (append $state.errors "udp.iceServers is empty but udp.mode is relay: players need a TURN server to relay through. Fix: --set-json 'udp.iceServers=[{\"urls\":[\"turn:turn.example.com:3478\"]}]', or --set udp.iceServersSecret.name=<secret>") }}
{{- end }}

{{- if not (include "mmo.publicUrl" .) }}
{{- $_ := set $state "errors" (append $state.errors (printf "gameServer.publicUrl is empty but gameServer.config.zones is %q: this release serves part of the world, and players transferred into its zones need its public address (MMO_PUBLIC_URL). Fix: --set gameServer.publicUrl=https://<this release's game address>, or --set ingress.enabled=true --set ingress.hosts[0]=<host>" $v.gameServer.config.zones)) }}
{{- end }}

{{- /*
The host UDP modes need a namespace whose Pod Security level allows host ports and the host network
("privileged"): baseline and restricted forbid both, the API server would refuse every game server
pod, and `helm install --wait` would only time out. These modes create cluster-scoped RBAC, so whoever
installs them may read the namespace too. Offline renders see no namespace and skip the check; the
API server's admission stays the backstop (cluster-wide defaults carry no label).
*/}}
{{- if has $v.udp.mode (list "hostPort" "hostNetwork") }}
{{- $ns := lookup "v1" "Namespace" "" .Release.Namespace | default dict }}
{{- $level := dig "metadata" "labels" "pod-security.kubernetes.io/enforce" "" $ns }}
{{- if has $level (list "baseline" "restricted") }}
{{- $_ := set $state "errors" (append $state.errors (printf "udp.mode is %s but namespace %s enforces Pod Security %q (label pod-security.kubernetes.io/enforce), which forbids %s: the API server would refuse every game server pod. Fix: --set udp.mode=nodePort (passes restricted), or kubectl label namespace %s pod-security.kubernetes.io/enforce=privileged --overwrite (see docs/networking.md)" $v.udp.mode .Release.Namespace $level (ternary "host ports" "the host network" (eq $v.udp.mode "hostPort")) .Release.Namespace)) }}
{{- end }}
{{- end }}

{{- /*
ServiceMonitor and PrometheusRule are prometheus-operator's kinds: on a cluster without its CRDs helm
would abort with "no matches for kind", naming no value. Install and upgrade see the cluster's kinds;
offline renders (helm template, Argo CD) see only those passed with --api-versions.
*/}}
{{- range $m := list (list "serviceMonitor" "ServiceMonitor") (list "prometheusRule" "PrometheusRule") }}
{{- $key := index $m 0 }}
{{- $kind := index $m 1 }}
{{- if and (index $v.monitoring $key).enabled (not ($.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" $kind))) }}
{{- $_ := set $state "errors" (append $state.errors (printf "monitoring.%s.enabled is true but the cluster has no %s kind (monitoring.coreos.com/v1): prometheus-operator's CRDs are not installed. Fix: --set monitoring.%s.enabled=false, or install the prometheus-operator CRDs first (for example with the kube-prometheus-stack chart); offline renders (helm template) need --api-versions monitoring.coreos.com/v1/%s" $key $kind $key $kind)) }}
{{- end }}
{{- end }}

{{- if and $v.ingress.enabled (not $v.ingress.hosts) }}
{{- $_ := set $state "errors" (append $state.errors "ingress.hosts is empty but ingress.enabled is true. Fix: --set ingress.hosts[0]=game.example.com") }}
{{- end }}

{{- range $path := list "gameServer" "canary" "postgres" "redis" "rabbitmq" "migrations" "tests" }}
{{- include "mmo.validateResources" (dict "state" $state "path" (printf "%s.resources" $path) "resources" (index $v $path).resources) }}
{{- end }}

{{- if $state.errors }}
{{- fail (printf "\n\nThe values are not valid (%d problems):\n  - %s\n" (len $state.errors) (join "\n  - " $state.errors)) }}
{{- end }}
{{- end }}
