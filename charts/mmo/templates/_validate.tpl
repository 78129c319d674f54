{{/*
Checks that values.schema.json cannot express: rules between values, values the server parses, and
what the live cluster holds. Every broken rule adds one problem; validate.yaml reports all of them
in one failure, which the mmoctl CLI parses. The format is a contract:

  The values are not valid (N problems):
    - <key> <what is wrong and what was expected>. Fix: <fix>

- <key> is the dotted path a user writes after --set (gameServer.resources.limits.cpu,
  ingress.hosts[0], commonLabels.app\.kubernetes\.io/name); where a problem involves several keys,
  the one the first fix changes.
- <fix> is one or more alternatives joined by ", or "; an alternative is helm flags (--set k=v,
  --set-json 'k=<json>', --api-versions kind) or a kubectl command followed by ", then <helm flags>".
  Every alternative is valid as written: the chart suite applies each one and renders.
- A problem never contains "||" (see mmo.validateValues).

The checks: this file (names, server settings, capacity, node ports, monitoring, GitOps), then
_validate-operations.tpl (KEDA, VPA, the Istio mesh, cost), _validate-workloads.tpl (what each workload
takes from values), _validate-backup.tpl (backup.*) and _validate-upgrade.tpl (what the
live cluster holds); _values-parse.tpl reads quantities, durations and CIDRs and writes fixes.
*/}}

{{/*
mmo.problem: records one problem. Usage: include "mmo.problem" (dict "state" $state "line" (printf …))
*/}}
{{- define "mmo.problem" -}}
{{- $_ := set .state "errors" (append .state.errors .line) -}}
{{- end }}
{{/*
mmo.validateZones: gameServer.config.zones against the zone count, as the server's parseZones reads
it (the list's syntax is the schema's, from contract/formats.ts).
*/}}
{{- define "mmo.validateZones" -}}
{{- $cfg := .root.Values.gameServer.config }}
{{- $c := include "mmo.contract" .root | fromJson }}
{{- $zones := trim $cfg.zones }}
{{- $count := int $cfg.zoneCount }}
{{- if ne $zones "*" }}
{{- $reasons := list }}
{{- $kept := list }}
{{- $top := 0 }}
{{- $backwards := false }}
{{- range splitList "," $zones }}
{{- $ids := regexFindAll "[0-9]+" . -1 }}
{{- $from := atoi (first $ids) }}
{{- $to := atoi (last $ids) }}
{{- if lt $to $from }}
{{- $reasons = append $reasons (printf "the range %s runs backwards" (trim .)) }}
{{- $backwards = true }}
{{- $low := $to }}{{ $to = $from }}{{ $from = $low }}
{{- end }}
{{- $top = max $top $to }}
{{- if ge $to $count }}
{{- $reasons = append $reasons (printf "zone %d does not exist (gameServer.config.zoneCount is %d: ids 0-%d)" $to $count (sub $count 1)) }}
{{- end }}
{{- if lt $from $count }}
{{- $to = min $to (sub $count 1) }}
{{- $kept = append $kept (ternary (toString $from) (printf "%d-%d" $from $to) (eq $from $to)) }}
{{- end }}
{{- end }}
{{- if $reasons }}
{{- $fix := printf "--set-json %s" (include "mmo.shellQuote" (printf "gameServer.config.zones=%s" (toJson (ternary (join "," $kept) "*" (gt (len $kept) 0))))) }}
{{- if and (not $backwards) (ge $top $count) (le (add $top 1) 1024) }}
{{- $fix = printf "%s, or --set gameServer.config.zoneCount=%d" $fix (add $top 1) }}
{{- end }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "gameServer.config.zones (%s): %s, so the server would refuse %s and not start. Fix: %s" $zones (join "; " $reasons) $c.env.zones $fix)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
mmo.validateNodePorts: node ports inside the cluster's range, and none used twice (node ports are one
pool across TCP and UDP: the API server refuses a second Service on a taken one).
*/}}
{{- define "mmo.validateNodePorts" -}}
{{- $v := .root.Values }}
{{- $range := splitList "-" $v.nodePortRange }}
{{- $lo := atoi (first $range) }}
{{- $hi := atoi (last $range) }}
{{- if or (gt $lo $hi) (lt $lo 1) (gt $hi 65535) }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "nodePortRange (%s) is not a range of ports from low to high within 1-65535: it must be the API server's --service-node-port-range. Fix: --set nodePortRange=30000-32767" $v.nodePortRange)) }}
{{- else }}
{{- $tcp := and (has $v.service.type (list "NodePort" "LoadBalancer")) (not (kindIs "invalid" $v.service.nodePort)) }}
{{- $udp := eq $v.udp.mode "nodePort" }}
{{- $udpPort := int $v.udp.nodePort }}
{{- if and $udp (or (lt $udpPort $lo) (gt $udpPort $hi)) }}
{{- $free := ternary (add $lo 1) $lo (and $tcp (eq (int $v.service.nodePort) $lo)) }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "udp.nodePort (%d) is outside the cluster's node port range %s (nodePortRange): the API server refuses the UDP Service. Fix: --set udp.nodePort=%d, or --set udp.mode=hostPort" $udpPort $v.nodePortRange $free)) }}
{{- end }}
{{- if $tcp }}
{{- $port := int $v.service.nodePort }}
{{- if or (lt $port $lo) (gt $port $hi) }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "service.nodePort (%d) is outside the cluster's node port range %s (nodePortRange): the API server refuses the game Service (null lets Kubernetes choose a free one). Fix: --set service.nodePort=null" $port $v.nodePortRange)) }}
{{- else if and $udp (eq $port $udpPort) }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "service.nodePort (%d) is also udp.nodePort: node ports are one pool for TCP and UDP, so the API server refuses the second Service (null lets Kubernetes choose a free one). Fix: --set service.nodePort=null, or --set udp.nodePort=%d" $port (ternary (sub $port 1) (add $port 1) (eq $port $hi)))) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
mmo.validateReplicaCaps: replica counts derived from capacity (left null) stay within the 1000 an
explicit count may be (the schema's maximum).
*/}}
{{- define "mmo.validateReplicaCaps" -}}
{{- $v := .root.Values }}
{{- $cap := 1000 }}
{{- $a := $v.gameServer.autoscaling }}
{{- $derived := list }}
{{- if include "mmo.autoscaled" .root }}
{{- if kindIs "invalid" $a.minReplicas }}{{ $derived = append $derived (list "gameServer.autoscaling.minReplicas" (include "mmo.minReplicas" .root | int) 1) }}{{ end }}
{{- if kindIs "invalid" $a.maxReplicas }}{{ $derived = append $derived (list "gameServer.autoscaling.maxReplicas" (include "mmo.maxReplicas" .root | int) 2) }}{{ end }}
{{- else if kindIs "invalid" $v.gameServer.replicas }}
{{- $derived = append $derived (list "gameServer.replicas" (include "mmo.replicas" .root | int) 1) }}
{{- end }}
{{- $over := list }}
{{- $perPod := 0 }}
{{- $explicit := list }}
{{- range $derived }}
{{- $key := index . 0 }}{{ $n := index . 1 }}{{ $factor := index . 2 }}
{{- if gt $n $cap }}
{{- $over = append $over (printf "%s %d" $key $n) }}
{{- $explicit = append $explicit (printf "--set %s=%d" $key $cap) }}
{{- /* pods = factor × ceil(target / perPod) + spare ≤ cap */}}
{{- $perPod = max $perPod (include "mmo.ceilDiv" (list $v.capacity.targetPlayers (div (sub $cap (int $v.capacity.spareReplicas)) $factor)) | int) }}
{{- end }}
{{- end }}
{{- if $over }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "capacity.playersPerPod (%d) with capacity.targetPlayers (%d) makes %s, above the %d game server pods the chart allows. Fix: --set capacity.playersPerPod=%d, or %s" (int $v.capacity.playersPerPod) (int $v.capacity.targetPlayers) (join " and " $over) $cap $perPod (join " " $explicit))) }}
{{- end }}
{{- end }}

{{/*
mmo.validateServerSettings: server settings whose rule spans several values, and the values the chart
derives for the server (MMO_PUBLIC_URL), checked with the contract's formats.
*/}}
{{- define "mmo.validateServerSettings" -}}
{{- $v := .root.Values }}
{{- $c := include "mmo.contract" .root | fromJson }}
{{- $cfg := $v.gameServer.config }}
{{- if le (int $v.gameServer.terminationGracePeriodSeconds) (int $cfg.drainSeconds) }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "gameServer.terminationGracePeriodSeconds (%d) must exceed gameServer.config.drainSeconds (%d), or pods are killed while players drain. Fix: --set gameServer.terminationGracePeriodSeconds=%d" (int $v.gameServer.terminationGracePeriodSeconds) (int $cfg.drainSeconds) (add (int $cfg.drainSeconds) 15))) }}
{{- end }}
{{- if gt (int $cfg.patchRate) (int $cfg.tickRate) }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "gameServer.config.patchRate (%d) is above gameServer.config.tickRate (%d): there is nothing new to send between ticks. Fix: --set gameServer.config.patchRate=%d" (int $cfg.patchRate) (int $cfg.tickRate) (int $cfg.tickRate))) }}
{{- end }}
{{- include "mmo.validateZones" . }}
{{- $url := include "mmo.publicUrl" .root }}
{{- if not $url }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "gameServer.publicUrl is empty but gameServer.config.zones is %q: this release serves part of the world, and players transferred into its zones need its public address (%s). Fix: --set gameServer.publicUrl=%s, or --set ingress.enabled=true --set ingress.hosts[0]=game.example.com" $cfg.zones $c.env.publicUrl $c.formats.httpOrigin.example)) }}
{{- else if not (regexMatch $c.formats.httpOrigin.pattern $url) }}
{{- include "mmo.problem" (dict "state" .state "line" (printf "gameServer.publicUrl is empty, so the chart would hand players %s (from ingress.hosts[0]) as %s, and the server expects %s. Fix: --set gameServer.publicUrl=%s" $url $c.env.publicUrl $c.formats.httpOrigin.expected $c.formats.httpOrigin.example)) }}
{{- end }}
{{- end }}

{{/*
mmo.validateValues: every check; fails with all problems at once.
*/}}
{{- define "mmo.validateValues" -}}
{{- $v := .Values }}
{{- $state := dict "errors" list }}
{{- $ctx := dict "root" . "state" $state }}

{{- /* Names: Services need DNS-1035 labels, so the prefix of every object name starts with a letter. */}}
{{- if and (not $v.fullnameOverride) (not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" (include "mmo.fullname" .))) }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "fullnameOverride is empty, so objects are named after the release: %s, which a Service name cannot start with (a lowercase letter first, then letters, digits and '-'). Fix: --set fullnameOverride=%s" (include "mmo.fullname" .) (printf "mmo-%s" (regexReplaceAll "[^a-z0-9-]+" .Release.Name "-") | trunc 42 | trimSuffix "-"))) }}
{{- end }}
{{- range $path := list "commonLabels" "monitoring.dashboard.labels" }}
{{- include "mmo.validateReservedLabels" (dict "state" $state "root" $ "path" $path "labels" (include "mmo.valueAt" (dict "root" $ "path" $path) | fromJson)) }}
{{- end }}
{{- range $path := list "commonLabels" "service.annotations" "ingress.annotations" "udp.serviceAnnotations" "monitoring.dashboard.labels" }}
{{- include "mmo.validateKeys" (dict "state" $state "root" $ "path" $path "map" (include "mmo.valueAt" (dict "root" $ "path" $path) | fromJson)) }}
{{- end }}
{{- $c := include "mmo.contract" . | fromJson }}
{{- $udpPorts := ternary (list (printf "%s/UDP" (include "mmo.udpPort" .))) list (ne $v.udp.mode "disabled") }}
{{- include "mmo.validateWorkload" (dict "state" $state "root" . "path" "gameServer" "volumes" (list "tmp" "announce" "node-reader-token") "mounts" (list "/tmp" "/run/mmo/announce") "containers" (list "server" "migrate" "node-address") "ports" (concat (list (printf "%d/TCP" (int $c.ports.game)) (printf "%d/TCP" (int $c.ports.health)) (printf "%d/TCP" (int $c.ports.metrics))) $udpPorts) "env" (values $c.env) "podAnnotations" (list "checksum/config")) }}
{{- include "mmo.validateWorkload" (dict "state" $state "root" . "path" "postgres" "volumes" (concat (list "data" "run" "tmp") (ternary (list "shm") list $v.postgres.shm.enabled)) "mounts" (concat (list "/var/lib/postgresql/data" "/var/run/postgresql" "/tmp") (ternary (list "/dev/shm") list $v.postgres.shm.enabled)) "containers" (concat (list "postgres") (ternary (list "metrics") list $v.postgres.metrics.enabled)) "ports" (concat (list "5432/TCP") (ternary (list "9187/TCP") list $v.postgres.metrics.enabled)) "env" (list "POSTGRES_DB" "POSTGRES_USER" "POSTGRES_PASSWORD" "PGDATA")) }}
{{- include "mmo.validateWorkload" (dict "state" $state "root" . "path" "redis" "volumes" (list "data" "tmp") "mounts" (list "/data" "/tmp") "containers" (concat (list "redis") (ternary (list "metrics") list $v.redis.metrics.enabled)) "ports" (concat (list "6379/TCP") (ternary (list "9121/TCP") list $v.redis.metrics.enabled)) "env" (list "REDIS_PASSWORD" "REDISCLI_AUTH")) }}
{{- include "mmo.validateWorkload" (dict "state" $state "root" . "path" "rabbitmq" "volumes" (list "data" "tmp") "mounts" (list "/var/lib/rabbitmq" "/tmp") "containers" (list "rabbitmq") "ports" (list "5672/TCP" "15692/TCP" "25672/TCP" "4369/TCP") "env" (list "RABBITMQ_DEFAULT_USER" "RABBITMQ_DEFAULT_PASS" "RABBITMQ_NODENAME")) }}
{{- $hook := list "helm.sh/hook" "helm.sh/hook-weight" "helm.sh/hook-delete-policy" }}
{{- include "mmo.validateWorkload" (dict "state" $state "root" . "path" "migrations" "accountAnnotations" $hook) }}
{{- include "mmo.validateWorkload" (dict "state" $state "root" . "path" "tests" "podAnnotations" $hook) }}
{{- include "mmo.validateWorkload" (dict "state" $state "root" . "path" "canary" "podAnnotations" (list "checksum/config")) }}
{{- range $store := list "postgres" "redis" "rabbitmq" }}
{{- $s := index $v $store }}
{{- if and $s.metrics.enabled (not $s.enabled) }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.metrics.enabled is true but %s.enabled is false: the chart runs its exporter next to the %s it runs, and scrapes nothing external. Fix: --set %s.metrics.enabled=false" $store $store $store $store)) }}
{{- else if and $s.metrics.serviceMonitor.enabled (not $s.metrics.enabled) }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.metrics.serviceMonitor.enabled is true but %s.metrics.enabled is false: the ServiceMonitor would find no metrics port to scrape. Fix: --set %s.metrics.serviceMonitor.enabled=false, or --set %s.metrics.enabled=true" $store $store $store $store)) }}
{{- else if and $s.metrics.serviceMonitor.enabled (not ($.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor")) }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.metrics.serviceMonitor.enabled is true but the cluster has no ServiceMonitor kind (monitoring.coreos.com/v1): prometheus-operator's CRDs are not installed (the kube-prometheus-stack chart installs them; offline renders with helm template name the kinds the cluster has with --api-versions). Fix: --set %s.metrics.serviceMonitor.enabled=false, or --api-versions monitoring.coreos.com/v1/ServiceMonitor" $store $store)) }}
{{- end }}
{{- if $s.metrics.enabled }}{{ with $s.metrics.resources }}{{ include "mmo.validateResources" (dict "state" $state "path" (printf "%s.metrics.resources" $store) "resources" .) }}{{ end }}{{ end }}
{{- end }}
{{- $pg := $v.postgres }}
{{- if and $pg.enabled $pg.shm.enabled }}
{{- $limit := include "mmo.quantity" $pg.resources.limits.memory | float64 }}
{{- if ge (include "mmo.quantity" $pg.shm.sizeLimit | float64) $limit }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "postgres.shm.sizeLimit (%s) is not below postgres.resources.limits.memory (%v): a memory-backed /dev/shm counts against the container's memory, and filling it would get PostgreSQL killed. Fix: --set postgres.shm.sizeLimit=%dMi" $pg.shm.sizeLimit $pg.resources.limits.memory (max 1 (int (div (int64 $limit) 2097152))))) }}
{{- end }}
{{- end }}

{{- range $svc := list (list "postgres" "postgres://user:password@postgres.example.com:5432/database") (list "redis" "redis://:password@redis.example.com:6379/0") (list "rabbitmq" "amqp://user:password@rabbitmq.example.com:5672") }}
{{- $key := index $svc 0 }}
{{- $s := index $v $key }}
{{- if not $s.enabled }}
{{- if not $s.external.host }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.external.host is empty but %s.enabled is false: the game servers need a %s to connect to. Fix: --set %s.external.host=%s.example.com, or --set %s.enabled=true" $key $key $key $key $key $key)) }}
{{- end }}
{{- if not $s.external.existingSecret }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.external.existingSecret is empty but %s.enabled is false: the connection URL must come from a Secret. Fix: kubectl -n %s create secret generic mmo-%s --from-literal=%s=%s, then --set %s.external.existingSecret=mmo-%s, or --set %s.enabled=true" $key $key $.Release.Namespace $key $s.external.existingSecretKey (include "mmo.shellQuote" (index $svc 1)) $key $key $key)) }}
{{- end }}
{{- end }}
{{- end }}

{{- $a := $v.gameServer.autoscaling }}
{{- if include "mmo.autoscaled" . }}
{{- $min := include "mmo.minReplicas" . | int }}
{{- $max := include "mmo.maxReplicas" . | int }}
{{- if gt $min $max }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "gameServer.autoscaling.maxReplicas (%d%s) is below gameServer.autoscaling.minReplicas (%d). Fix: --set gameServer.autoscaling.maxReplicas=%d" $max (ternary ", derived from capacity" "" (kindIs "invalid" $a.maxReplicas)) $min (min $min 1000))) }}
{{- end }}
{{- if and $a.enabled (eq (int $a.targetCPUUtilizationPercentage) 0) (eq (int $a.targetMemoryUtilizationPercentage) 0) (not $a.playersPerPod.enabled) }}
{{- include "mmo.problem" (dict "state" $state "line" "gameServer.autoscaling.targetCPUUtilizationPercentage is 0, as are targetMemoryUtilizationPercentage and playersPerPod.enabled: the autoscaler would have no metric. Fix: --set gameServer.autoscaling.targetCPUUtilizationPercentage=70") }}
{{- end }}
{{- if and (or (and $a.enabled $a.playersPerPod.enabled) (and $a.keda.enabled $a.keda.prometheus.enabled)) (lt (mul (int $v.capacity.playersPerPod) (int $v.capacity.scaleAtPercent)) 100) }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "capacity.scaleAtPercent (%d) of capacity.playersPerPod (%d) is less than one player: the players-per-pod target would be 0, which the API server refuses. Fix: --set capacity.scaleAtPercent=%d" (int $v.capacity.scaleAtPercent) (int $v.capacity.playersPerPod) (include "mmo.ceilDiv" (list 100 $v.capacity.playersPerPod) | int))) }}
{{- end }}
{{- end }}
{{- include "mmo.validateReplicaCaps" $ctx }}

{{- $p := $v.gameServer.pdb }}
{{- if and $p.enabled (not (kindIs "invalid" $p.minAvailable)) }}
{{- $floor := include "mmo.minStableReplicas" . | int }}
{{- if ge (int $p.minAvailable) $floor }}
{{- $fix := "--set gameServer.pdb.minAvailable=null" }}
{{- if gt $floor 1 }}{{ $fix = printf "--set gameServer.pdb.minAvailable=%d, or %s" (sub $floor 1) $fix }}{{ end }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "gameServer.pdb.minAvailable (%d) is not below the %d stable game server pods: no pod could ever be evicted and node drains would hang (null leaves it to gameServer.pdb.maxUnavailable). Fix: %s" (int $p.minAvailable) $floor $fix)) }}
{{- end }}
{{- end }}

{{- include "mmo.validateServerSettings" $ctx }}

{{- if and $v.canary.enabled (not $v.canary.image.tag) (not $v.canary.image.digest) }}
{{- $stable := include "mmo.imageTag" . }}
{{- $parts := regexFindAll "[0-9]+" $stable -1 }}
{{- $next := "canary" }}
{{- if regexMatch "^v?[0-9]+\\.[0-9]+\\.[0-9]+$" $stable }}{{ $next = printf "%s%s.%s.%d" (ternary "v" "" (hasPrefix "v" $stable)) (index $parts 0) (index $parts 1) (add1 (atoi (index $parts 2))) }}{{ end }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "canary.image.tag is empty but canary.enabled is true: a canary runs the version to try next to the stable %s, and needs that version's tag or digest. Fix: --set canary.image.tag=%s, or --set canary.enabled=false" $stable $next)) }}
{{- end }}

{{- if and (eq $v.udp.mode "relay") (not $v.udp.iceServers) (not $v.udp.iceServersSecret.name) }}
{{- include "mmo.problem" (dict "state" $state "line" "udp.iceServers is empty but udp.mode is relay: players need a TURN server to relay through. Fix: --set-json 'udp.iceServers=[{\"urls\":[\"turn:turn.example.com:3478\"]}]', or --set udp.iceServersSecret.name=turn-servers") }}
{{- end }}
{{- include "mmo.validateNodePorts" $ctx }}
{{- include "mmo.validateBackup" $ctx }}
{{- include "mmo.validateOperations" $ctx }}
{{- include "mmo.validateUpgrade" $ctx }}

{{- /*
GitOps: gameServer.autoscaling.setReplicas=false says the chart is rendered with `helm template`
(Argo CD), where `lookup` sees nothing and secrets.yaml would generate new credentials on every
render: each sync would rotate the data stores' passwords (which the stores keep from their first
start) and the token key (logging every player out). Refused, with existingSecret as the way.
*/}}
{{- if not $v.gameServer.autoscaling.setReplicas }}
{{- $generated := list }}
{{- range $store := list "postgres" "redis" "rabbitmq" }}
{{- $s := index $v $store }}
{{- if and $s.enabled (not $s.auth.existingSecret) }}{{ $generated = append $generated (list (printf "%s.auth.existingSecret" $store) (printf "the %s password" $store) (printf "%s-%s-credentials" (include "mmo.fullname" $) $store)) }}{{ end }}
{{- end }}
{{- if not $v.gameServer.auth.existingSecret }}{{ $generated = append $generated (list "gameServer.auth.existingSecret" "the key that signs player tokens" (printf "%s-auth" (include "mmo.fullname" .))) }}{{ end }}
{{- if not $v.gameServer.admin.existingSecret }}{{ $generated = append $generated (list "gameServer.admin.existingSecret" "the admin token" (printf "%s-admin" (include "mmo.fullname" .))) }}{{ end }}
{{- range $generated }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s is empty but gameServer.autoscaling.setReplicas is false, which says the chart is rendered with helm template (Argo CD): the chart would generate %s anew on every render, so each sync would change it (create the Secret once instead, as docs/upgrades.md shows). Fix: --set %s=%s" (index . 0) (index . 1) (index . 0) (index . 2))) }}
{{- end }}
{{- end }}
{{- if and (eq $v.udp.mode "hostNetwork") $v.networkPolicy.enabled (not $v.networkPolicy.nodeCIDRs) }}
{{- include "mmo.problem" (dict "state" $state "line" "networkPolicy.nodeCIDRs is empty but udp.mode is hostNetwork: game servers on the host network reach the data stores from their node's address, which many network plugins never match to the game server's pod labels, so the data stores' policies must admit the nodes' address ranges (for example your VPC's node subnet). Fix: --set-json 'networkPolicy.nodeCIDRs=[\"10.0.0.0/16\"]', or --set networkPolicy.enabled=false") }}
{{- end }}
{{- range $i, $r := $v.service.loadBalancerSourceRanges }}
{{- with include "mmo.cidrNetwork" $r }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "service.loadBalancerSourceRanges[%d] (%s) has bits set beyond its prefix length, which the API server refuses: the network it names is %s. Fix: --set service.loadBalancerSourceRanges[%d]=%s" $i $r . $i .)) }}
{{- end }}
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
{{- include "mmo.problem" (dict "state" $state "line" (printf "udp.mode is %s but namespace %s enforces Pod Security %q (label pod-security.kubernetes.io/enforce), which forbids %s: the API server would refuse every game server pod (nodePort passes restricted; docs/networking.md weighs the modes). Fix: --set udp.mode=nodePort, or kubectl label namespace %s pod-security.kubernetes.io/enforce=privileged --overwrite" $v.udp.mode .Release.Namespace $level (ternary "host ports" "the host network" (eq $v.udp.mode "hostPort")) .Release.Namespace)) }}
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
{{- include "mmo.problem" (dict "state" $state "line" (printf "monitoring.%s.enabled is true but the cluster has no %s kind (monitoring.coreos.com/v1): prometheus-operator's CRDs are not installed (the kube-prometheus-stack chart installs them; offline renders with helm template name the kinds the cluster has with --api-versions). Fix: --set monitoring.%s.enabled=false, or --api-versions monitoring.coreos.com/v1/%s" $key $kind $key $kind)) }}
{{- end }}
{{- end }}
{{- $sm := $v.monitoring.serviceMonitor }}
{{- $interval := include "mmo.durationMs" $sm.interval | int64 }}
{{- $timeout := include "mmo.durationMs" $sm.scrapeTimeout | int64 }}
{{- if eq $interval 0 }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "monitoring.serviceMonitor.interval (%s) is zero: Prometheus needs a scrape interval above zero. Fix: --set monitoring.serviceMonitor.interval=15s" $sm.interval)) }}
{{- else if eq $timeout 0 }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "monitoring.serviceMonitor.scrapeTimeout (%s) is zero: Prometheus needs a scrape timeout above zero. Fix: --set monitoring.serviceMonitor.scrapeTimeout=%s" $sm.scrapeTimeout $sm.interval)) }}
{{- else if gt $timeout $interval }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "monitoring.serviceMonitor.scrapeTimeout (%s) is longer than monitoring.serviceMonitor.interval (%s): Prometheus refuses a scrape that may outlast its interval. Fix: --set monitoring.serviceMonitor.scrapeTimeout=%s" $sm.scrapeTimeout $sm.interval $sm.interval)) }}
{{- end }}

{{- if and $v.ingress.enabled (not $v.ingress.hosts) }}
{{- include "mmo.problem" (dict "state" $state "line" "ingress.hosts is empty but ingress.enabled is true. Fix: --set ingress.hosts[0]=game.example.com, or --set ingress.enabled=false") }}
{{- end }}


{{- range $path := list "gameServer" "canary" "postgres" "redis" "rabbitmq" "migrations" "tests" }}
{{- include "mmo.validateResources" (dict "state" $state "path" (printf "%s.resources" $path) "resources" (index $v $path).resources) }}
{{- end }}

{{- if $state.errors }}
{{- $message := printf "\n\nThe values are not valid (%d problems):\n  - %s\n" (len $state.errors) (join "\n  - " $state.errors) }}
{{- fail $message }}
{{- /*
Reached only under `helm lint`, where fail merely logs and the chart would pass. semverCompare
cannot be softened: its error quotes the message verbatim (up to a "||"), so lint fails with the
same text install shows.
*/}}
{{- semverCompare $message "0.0.0" }}
{{- end }}
{{- end }}
