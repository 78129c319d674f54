{{/*
mmo.name: the chart name (or nameOverride), at most 63 characters.
*/}}
{{- define "mmo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
mmo.fullname: prefix of every object name. The release name when it already contains the chart
name, else "<release>-<chart>". Truncated so suffixes ("-postgres-headless") still fit in 63.
*/}}
{{- define "mmo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 42 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 42 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 42 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
mmo.chart: "<name>-<version>" for the helm.sh/chart label.
*/}}
{{- define "mmo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
mmo.selectorLabels: labels that select one component's pods. Never change after install.
Usage: include "mmo.selectorLabels" (dict "root" $ "component" "postgres")
*/}}
{{- define "mmo.selectorLabels" -}}
{{- $c := include "mmo.contract" .root | fromJson -}}
{{ $c.labels.name }}: {{ include "mmo.name" .root | toYaml }}
{{ $c.labels.instance }}: {{ .root.Release.Name | toYaml }}
{{ $c.labels.component }}: {{ .component }}
{{- end }}

{{/*
mmo.labels: standard labels for every object of one component (selector labels + version, chart,
managed-by, part-of, commonLabels, and "extra" labels of this object, which win over commonLabels). "version" defaults to the game server tag, cut to what a label
value may be (63 characters, alphanumeric at both ends: image tags may end in "_" or ".").
Usage: include "mmo.labels" (dict "root" $ "component" "game-server" ["version" "1.2.3"] ["extra" (dict …)])
*/}}
{{- define "mmo.labels" -}}
{{- $c := include "mmo.contract" .root | fromJson -}}
{{ include "mmo.selectorLabels" . }}
{{ $c.labels.version }}: {{ default (include "mmo.imageTag" .root) .version | trunc 63 | trimAll "-_." | quote }}
{{ $c.labels.partOf }}: {{ include "mmo.name" .root | toYaml }}
{{ $c.labels.managedBy }}: {{ .root.Release.Service }}
helm.sh/chart: {{ include "mmo.chart" .root }}
{{- with merge (deepCopy (.extra | default dict)) .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
mmo.instanceSelector: selects every pod of the release (default-deny NetworkPolicy).
*/}}
{{- define "mmo.instanceSelector" -}}
{{- $c := include "mmo.contract" . | fromJson -}}
{{ $c.labels.name }}: {{ include "mmo.name" . | toYaml }}
{{ $c.labels.instance }}: {{ .Release.Name | toYaml }}
{{- end }}

{{/*
mmo.imageTag: the game server tag (image.tag, else appVersion).
*/}}
{{- define "mmo.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/*
mmo.image: "repository:tag" or "repository@digest", through global.imageRegistry when set.
Usage: include "mmo.image" (dict "root" $ "repository" .. "tag" .. "digest" ..)
*/}}
{{- define "mmo.image" -}}
{{- $repository := .repository }}
{{- with .root.Values.global.imageRegistry }}{{ $repository = include "mmo.mirrored" (list . $repository) }}{{ end }}
{{- if .digest }}
{{- printf "%s@%s" $repository .digest }}
{{- else }}
{{- printf "%s:%s" $repository (toString .tag) }}
{{- end }}
{{- end }}

{{/*
mmo.mirrored: a repository moved to another registry, keeping its path: with "registry.example.com",
"docker.io/library/postgres" and "postgres" both become "registry.example.com/library/postgres",
"ghcr.io/mmoctl/mmo-server" becomes "registry.example.com/mmoctl/mmo-server". The first path
component names a registry when it has a "." or ":" or is "localhost" (as docker reads it).
Usage: include "mmo.mirrored" (list <registry> <repository>)
*/}}
{{- define "mmo.mirrored" -}}
{{- $registry := index . 0 | trimSuffix "/" }}
{{- $repository := index . 1 }}
{{- $parts := splitList "/" $repository }}
{{- $path := $repository }}
{{- if eq (len $parts) 1 }}{{ $path = printf "library/%s" $repository }}
{{- else if or (contains "." (first $parts)) (contains ":" (first $parts)) (eq (first $parts) "localhost") }}{{ $path = join "/" (rest $parts) }}
{{- end }}
{{- printf "%s/%s" $registry $path }}
{{- end }}

{{/*
mmo.serverImage: the stable game server image.
*/}}
{{- define "mmo.serverImage" -}}
{{- include "mmo.image" (dict "root" . "repository" .Values.image.repository "tag" (include "mmo.imageTag" .) "digest" .Values.image.digest) }}
{{- end }}

{{/*
mmo.canaryImage: the canary image (canary tag/digest, falling back to the stable ones).
*/}}
{{- define "mmo.canaryImage" -}}
{{- if .Values.canary.image.digest }}
{{- include "mmo.image" (dict "root" . "repository" .Values.image.repository "digest" .Values.canary.image.digest) }}
{{- else if .Values.canary.image.tag }}
{{- include "mmo.image" (dict "root" . "repository" .Values.image.repository "tag" .Values.canary.image.tag) }}
{{- else }}
{{- include "mmo.serverImage" . }}
{{- end }}
{{- end }}

{{/*
mmo.podSecurityContext: pod-level settings that pass PodSecurity "restricted". The image's uid is also
its gid and fsGroup; where the platform assigns ids itself (OpenShift's restricted SCC, see
global.compatibility.openshift.adaptSecurityContext) the three are left to it.
Usage: include "mmo.podSecurityContext" (dict "root" $ "uid" 1000)
*/}}
{{- define "mmo.podSecurityContext" -}}
{{- $adapt := .root.Values.global.compatibility.openshift.adaptSecurityContext }}
runAsNonRoot: true
{{- if not (or (eq $adapt "force") (and (eq $adapt "auto") (.root.Capabilities.APIVersions.Has "security.openshift.io/v1"))) }}
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
{{- end }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
mmo.containerSecurityContext: container settings that pass PodSecurity "restricted", root filesystem
read-only (every image the chart runs writes only to mounted volumes).
*/}}
{{- define "mmo.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
mmo.ceilDiv: ceil(a / b) for positive integers. Usage: include "mmo.ceilDiv" (list a b) | int
*/}}
{{- define "mmo.ceilDiv" -}}
{{- $a := index . 0 | int }}{{- $b := index . 1 | int }}
{{- div (add $a (sub $b 1)) $b }}
{{- end }}

{{/*
Capacity arithmetic, in one place (documented in values.yaml under capacity and in docs/values.md):
  needed   = ceil(capacity.targetPlayers / capacity.playersPerPod)
  replicas = needed + capacity.spareReplicas           (gameServer.replicas, autoscaling.minReplicas)
  max      = 2 × needed + capacity.spareReplicas       (autoscaling.maxReplicas: room for a doubling)
Explicit (non-null) values always win; with targetPlayers 0 the defaults are 2 and 10.
*/}}
{{- define "mmo.neededReplicas" -}}
{{- include "mmo.ceilDiv" (list .Values.capacity.targetPlayers .Values.capacity.playersPerPod) }}
{{- end }}

{{- /* needed + spareReplicas, or 2 without a capacity target: the default of both counts below. */}}
{{- define "mmo.derivedReplicas" -}}
{{- if gt (int .Values.capacity.targetPlayers) 0 }}
{{- add (include "mmo.neededReplicas" . | int) (int .Values.capacity.spareReplicas) }}
{{- else }}2{{- end }}
{{- end }}

{{- define "mmo.replicas" -}}
{{- $n := .Values.gameServer.replicas }}
{{- if kindIs "invalid" $n }}{{ include "mmo.derivedReplicas" . }}{{ else }}{{ $n | int }}{{ end }}
{{- end }}

{{- define "mmo.minReplicas" -}}
{{- $n := .Values.gameServer.autoscaling.minReplicas }}
{{- if kindIs "invalid" $n }}{{ include "mmo.derivedReplicas" . }}{{ else }}{{ $n | int }}{{ end }}
{{- end }}

{{- define "mmo.maxReplicas" -}}
{{- $a := .Values.gameServer.autoscaling }}
{{- if not (kindIs "invalid" $a.maxReplicas) }}
{{- $a.maxReplicas | int }}
{{- else if gt (int .Values.capacity.targetPlayers) 0 }}
{{- add (mul 2 (include "mmo.neededReplicas" . | int)) (int .Values.capacity.spareReplicas) }}
{{- else }}10{{- end }}
{{- end }}

{{/*
mmo.autoscaledReplicas: spec.replicas of the stable Deployment when the autoscaler owns the count.
Leaving it out would create the Deployment with 1 pod, so `helm install --wait` would call a release
sized for minReplicas ready with one game server (and helm 3 would reset a scaled Deployment to 1 on
upgrades). So: minReplicas on install; on upgrades the live count the autoscaler chose, kept within
[minReplicas, maxReplicas]. Offline renders (helm template) see no live Deployment and give minReplicas,
so GitOps tools that render that way set gameServer.autoscaling.setReplicas=false: no replicas at all.
*/}}
{{- define "mmo.autoscaledReplicas" -}}
{{- $min := include "mmo.minReplicas" . | int }}
{{- $max := include "mmo.maxReplicas" . | int }}
{{- $live := lookup "apps/v1" "Deployment" .Release.Namespace (include "mmo.serverName" .) }}
{{- $n := $min }}
{{- if and $live $live.spec (hasKey $live.spec "replicas") }}{{ $n = int $live.spec.replicas }}{{ end }}
{{- max $min (min $max $n) }}
{{- end }}

{{/*
mmo.autoscaled: "true" when an autoscaler owns the stable game servers' replica count — the chart's
HorizontalPodAutoscaler (gameServer.autoscaling.enabled) or KEDA's (gameServer.autoscaling.keda.enabled,
which runs an HPA of its own). Both read minReplicas and maxReplicas.
*/}}
{{- define "mmo.autoscaled" -}}
{{- $a := .Values.gameServer.autoscaling }}
{{- if or $a.enabled $a.keda.enabled }}true{{ end }}
{{- end }}

{{/*
mmo.scaleBehavior: the scale-up and scale-down behaviour (autoscaling/v2 HPA behavior) of both
autoscalers, the chart's HPA and KEDA's, as the capacity plan says: scale out fast (a login wave),
in slowly (players are still draining):
  up: within 60 s, +100 % or +5 pods per minute, whichever is more;
  down: after 5 min of lower load, −50 % or −2 pods per minute, whichever is less.
*/}}
{{- define "mmo.scaleBehavior" -}}
scaleUp:
  stabilizationWindowSeconds: 60
  selectPolicy: Max
  policies:
    - type: Percent
      value: 100
      periodSeconds: 60
    - type: Pods
      value: 5
      periodSeconds: 60
scaleDown:
  stabilizationWindowSeconds: 300
  selectPolicy: Min
  policies:
    - type: Percent
      value: 50
      periodSeconds: 60
    - type: Pods
      value: 2
      periodSeconds: 60
{{- end }}

{{/*
mmo.minStableReplicas: the fewest stable pods that can be running (the autoscaler's min, else replicas).
*/}}
{{- define "mmo.minStableReplicas" -}}
{{- if include "mmo.autoscaled" . }}{{ include "mmo.minReplicas" . }}{{ else }}{{ include "mmo.replicas" . }}{{ end }}
{{- end }}

{{/*
UDP mode predicates. perNode: one game pod per node owns the node's UDP port (nodePort, hostPort,
hostNetwork); these modes announce the node's address, written by the node-address init container.
*/}}
{{- define "mmo.udpEnabled" -}}
{{- if ne .Values.udp.mode "disabled" }}true{{ end }}
{{- end }}

{{- define "mmo.udpPerNode" -}}
{{- if has .Values.udp.mode (list "nodePort" "hostPort" "hostNetwork") }}true{{ end }}
{{- end }}

{{/*
mmo.udpPort: the UDP port the server binds (and announces).
*/}}
{{- define "mmo.udpPort" -}}
{{- if eq .Values.udp.mode "nodePort" }}{{ .Values.udp.nodePort | int }}{{ else }}{{ .Values.udp.port | int }}{{ end }}
{{- end }}

{{/*
Names of generated objects.
*/}}
{{- define "mmo.serverName" -}}{{ include "mmo.fullname" . }}-server{{- end }}
{{- define "mmo.canaryName" -}}{{ include "mmo.fullname" . }}-server-canary{{- end }}
{{- define "mmo.internalServiceName" -}}{{ include "mmo.fullname" . }}-server-internal{{- end }}
{{- define "mmo.postgresName" -}}{{ include "mmo.fullname" . }}-postgres{{- end }}
{{- define "mmo.redisName" -}}{{ include "mmo.fullname" . }}-redis{{- end }}
{{- define "mmo.rabbitmqName" -}}{{ include "mmo.fullname" . }}-rabbitmq{{- end }}
{{- define "mmo.migrateName" -}}{{ include "mmo.fullname" . }}-migrate{{- end }}
{{- define "mmo.backupName" -}}{{ include "mmo.fullname" . }}-backup{{- end }}

{{/*
Where the server's credentials come from: a (name, key) pair per variable, either a user's Secret or
the chart's generated "<fullname>-server" Secret. The three data services' URLs follow one rule, looked
up by service: bundled → auth.existingSecret/urlKey, else the generated Secret; external →
external.existingSecret/existingSecretKey.
Usage: include "mmo.secretRef" (dict "root" $ "var" "databaseUrl") | fromYaml
*/}}
{{- define "mmo.secretRef" -}}
{{- $v := .root.Values }}
{{- $gen := include "mmo.serverName" .root }}
{{- $c := include "mmo.contract" .root | fromJson }}
{{- $datastores := dict "databaseUrl" "postgres" "redisUrl" "redis" "amqpUrl" "rabbitmq" }}
{{- if hasKey $datastores .var }}
{{- $s := index $v (index $datastores .var) }}
{{- if $s.enabled }}
{{- if $s.auth.existingSecret }}name: {{ $s.auth.existingSecret }}
key: {{ $s.auth.urlKey }}{{ else }}name: {{ $gen }}
key: {{ index $c.env .var }}{{ end }}
{{- else }}name: {{ $s.external.existingSecret }}
key: {{ $s.external.existingSecretKey }}
{{- end }}
{{- else if eq .var "authSecret" }}
{{- if $v.gameServer.auth.existingSecret }}name: {{ $v.gameServer.auth.existingSecret }}
key: {{ $v.gameServer.auth.existingSecretKey }}{{ else }}name: {{ $gen }}
key: {{ $c.env.authSecret }}{{ end }}
{{- else if eq .var "adminToken" }}
{{- if $v.gameServer.admin.existingSecret }}name: {{ $v.gameServer.admin.existingSecret }}
key: {{ $v.gameServer.admin.existingSecretKey }}{{ else }}name: {{ $gen }}
key: {{ $c.env.adminToken }}{{ end }}
{{- else if eq .var "iceServers" }}name: {{ $v.udp.iceServersSecret.name }}
key: {{ $v.udp.iceServersSecret.key }}
{{- end }}
{{- end }}

{{/*
mmo.publicUrl: MMO_PUBLIC_URL, the address game servers hand to players transferred into their zones.
gameServer.publicUrl when set; else the first Ingress host (https when a TLS entry covers it); else,
for a release whose pods own every zone (no transfer ever targets it), the game Service's in-cluster
address. Empty when none applies (a partition without an address): validateValues reports it.
*/}}
{{- define "mmo.publicUrl" -}}
{{- $v := .Values }}
{{- if $v.gameServer.publicUrl }}
{{- $v.gameServer.publicUrl | trimSuffix "/" }}
{{- else if and $v.ingress.enabled $v.ingress.hosts }}
{{- $host := first $v.ingress.hosts }}
{{- $tls := false }}
{{- range $v.ingress.tls }}{{ if or (not .hosts) (has $host .hosts) }}{{ $tls = true }}{{ end }}{{ end }}
{{- printf "%s://%s" (ternary "https" "http" $tls) $host }}
{{- else if eq $v.gameServer.config.zones "*" }}
{{- printf "http://%s.%s.svc:%d" (include "mmo.serverName" .) .Release.Namespace (int $v.service.port) }}
{{- end }}
{{- end }}

{{/*
mmo.databaseEnv: the DATABASE_URL env entry (used by the server, its migrate init container and the
migration Job).
*/}}
{{- define "mmo.databaseEnv" -}}
{{- $c := include "mmo.contract" . | fromJson }}
- name: {{ $c.env.databaseUrl }}
  valueFrom:
    secretKeyRef:
      {{- include "mmo.secretRef" (dict "root" . "var" "databaseUrl") | nindent 6 }}
{{- end }}

{{/*
mmo.tmpVolume: the /tmp emptyDir, the only writable path of the game server image (each container
mounts it itself).
*/}}
{{- define "mmo.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end }}

{{/*
mmo.dnsEgress: an egress rule to DNS (port 53, UDP and TCP) at any address; every pod of the release
resolves Service and external names.
*/}}
{{- define "mmo.dnsEgress" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
