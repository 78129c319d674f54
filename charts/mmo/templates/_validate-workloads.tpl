{{/*
Checks of what every workload takes from values (resources, labels, annotations, and what a studio
adds to its pods), used by mmo.validateValues (_validate.tpl).
*/}}

{{/*
mmo.validateResources: limits above zero and requests ≤ limits, for one resources block.
Usage: include "mmo.validateResources" (dict "state" $state "path" "gameServer.resources" "resources" …)
*/}}
{{- define "mmo.validateResources" -}}
{{- $r := .resources | default dict }}
{{- $fallback := dict "cpu" "1" "memory" "512Mi" }}
{{- range $res := list "cpu" "memory" }}
{{- $requests := $r.requests | default dict }}
{{- $limits := $r.limits | default dict }}
{{- if and (hasKey $requests $res) (hasKey $limits $res) }}
{{- $req := index $requests $res }}
{{- $lim := index $limits $res }}
{{- $reqN := include "mmo.quantity" $req | float64 }}
{{- $limN := include "mmo.quantity" $lim | float64 }}
{{- if eq $limN 0.0 }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "%s.limits.%s is %v: a limit of zero is not \"no limit\", and no container can run within it. Fix: --set %s.limits.%s=%v" $.path $res $lim $.path $res (ternary $req (index $fallback $res) (gt $reqN 0.0)))) }}
{{- else if gt $reqN $limN }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "%s.limits.%s (%v) is below %s.requests.%s (%v): a container cannot request more than its limit. Fix: --set %s.limits.%s=%v" $.path $res $lim $.path $res $req $.path $res $req)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
mmo.validateReservedLabels: user labels that would replace one the chart sets itself (selectors,
the standard labels, the track). Usage: include … (dict "state" $state "root" $ "path" "commonLabels" "labels" …)
*/}}
{{- define "mmo.validateReservedLabels" -}}
{{- $c := include "mmo.contract" .root | fromJson }}
{{- $reserved := append (values $c.labels) "helm.sh/chart" }}
{{- $kept := dict }}
{{- $bad := list }}
{{- range $k, $v := .labels }}{{ if has $k $reserved }}{{ $bad = append $bad $k }}{{ else }}{{ $_ := set $kept $k $v }}{{ end }}{{ end }}
{{- range $bad }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "%s.%s would replace a label the chart sets itself (%s): selectors and standard labels never change. Fix: --set-json %s" $.path (replace "." "\\." .) (join ", " (sortAlpha $reserved)) (include "mmo.shellQuote" (printf "%s=%s" $.path (toJson $kept))))) }}
{{- end }}
{{- end }}

{{/*
mmo.validateKeys: the keys of one map of labels or annotations, in Kubernetes' syntax.
Usage: include "mmo.validateKeys" (dict "state" $state "root" $ "path" "commonLabels" "map" …)
*/}}
{{- define "mmo.validateKeys" -}}
{{- $c := include "mmo.contract" .root | fromJson }}
{{- $kept := dict }}
{{- $bad := list }}
{{- range $k, $v := .map }}{{ if regexMatch $c.kubernetes.qualifiedName $k }}{{ $_ := set $kept $k $v }}{{ else }}{{ $bad = append $bad $k }}{{ end }}{{ end }}
{{- range $bad }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "%s has the key %q, which Kubernetes refuses as a label or annotation key: an optional DNS name and a slash, then at most 63 letters, digits, '-', '_' or '.', with a letter or digit at both ends. Fix: --set-json %s" $.path . (include "mmo.shellQuote" (printf "%s=%s" $.path (toJson $kept))))) }}
{{- end }}
{{- end }}

{{/*
mmo.validateWorkload: what a studio adds to one workload's pods, against what the chart puts there
itself ("volumes", "mounts" of the main container, "containers", "ports" as "port/protocol", "env" of
the main container): names the API server would refuse as duplicates, mounts of volumes that do not
exist, ports two containers would both bind, variables the chart sets, resources of extra containers,
labels replacing the chart's, and keys Kubernetes refuses.
Usage: include "mmo.validateWorkload" (dict "state" $state "root" $ "path" "postgres" "volumes" (list …) "mounts" (list …) "containers" (list …) "ports" (list "5432/TCP") "env" (list …))
*/}}
{{- define "mmo.validateWorkload" -}}
{{- $state := .state }}
{{- $root := .root }}
{{- $path := .path }}
{{- $v := include "mmo.valueAt" (dict "root" $root "path" $path) | fromJson }}
{{- include "mmo.validateReservedLabels" (dict "state" $state "root" $root "path" (printf "%s.podLabels" $path) "labels" $v.podLabels) }}
{{- range $map := list "podLabels" "podAnnotations" "nodeSelector" }}
{{- include "mmo.validateKeys" (dict "state" $state "root" $root "path" (printf "%s.%s" $path $map) "map" (index $v $map)) }}
{{- end }}
{{- with $v.serviceAccount }}
{{- include "mmo.validateKeys" (dict "state" $state "root" $root "path" (printf "%s.serviceAccount.annotations" $path) "map" .annotations) }}
{{- end }}
{{- range $where := list (list "podAnnotations" $.podAnnotations) (list "serviceAccount.annotations" $.accountAnnotations) }}
{{- if index $where 1 }}
{{- $at := printf "%s.%s" $path (index $where 0) }}
{{- $given := include "mmo.valueAt" (dict "root" $root "path" $at) | fromJson }}
{{- range $key := index $where 1 }}
{{- if hasKey $given $key }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.%s is an annotation the chart sets itself on that object: the two would clash. Fix: --set-json %s" $at (replace "." "\\." $key) (include "mmo.shellQuote" (printf "%s=%s" $at (toJson (omit $given $key)))))) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- $spreads := list }}
{{- range $i, $t := $v.topologySpreadConstraints }}
{{- $id := printf "%s %s" $t.topologyKey $t.whenUnsatisfiable }}
{{- if has $id $spreads }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.topologySpreadConstraints[%d] repeats the topologyKey %s with whenUnsatisfiable %s of an earlier constraint, which the API server refuses. Fix: %s" $path $i $t.topologyKey $t.whenUnsatisfiable (include "mmo.without" (list (printf "%s.topologySpreadConstraints" $path) $v.topologySpreadConstraints $i)))) }}
{{- end }}
{{- $spreads = append $spreads $id }}
{{- end }}
{{- if hasKey $v "extraEnv" }}
{{- range $i, $e := $v.extraEnv }}
{{- if has $e.name $.env }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.extraEnv[%d].name is %s, which the chart sets itself from its values: a second definition would override what the chart checked. Fix: %s" $path $i $e.name (include "mmo.without" (list (printf "%s.extraEnv" $path) $v.extraEnv $i)))) }}
{{- end }}
{{- end }}
{{- $volumes := $.volumes }}
{{- range $i, $vol := $v.extraVolumes }}
{{- if has $vol.name $volumes }}
{{- $fix := printf "--set %s.extraVolumes[%d].name=%s-extra" $path $i $vol.name }}
{{- range $j, $m := $v.extraVolumeMounts }}{{ if eq $m.name $vol.name }}{{ $fix = printf "%s --set %s.extraVolumeMounts[%d].name=%s-extra" $fix $path $j $vol.name }}{{ end }}{{ end }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.extraVolumes[%d].name (%s) is taken by %s: the API server refuses two volumes of one name. Fix: %s" $path $i $vol.name (ternary "a volume of the chart" "an earlier extra volume" (has $vol.name $.volumes)) $fix)) }}
{{- end }}
{{- $volumes = append $volumes $vol.name }}
{{- end }}
{{- $mounts := $.mounts }}
{{- range $i, $m := $v.extraVolumeMounts }}
{{- if not (has $m.name $volumes) }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.extraVolumeMounts[%d].name (%s) names no volume of the pod (extraVolumes adds them): the API server refuses the mount. Fix: %s, or --set-json %s" $path $i $m.name (include "mmo.without" (list (printf "%s.extraVolumeMounts" $path) $v.extraVolumeMounts $i)) (include "mmo.shellQuote" (printf "%s.extraVolumes=%s" $path (toJson (append $v.extraVolumes (dict "name" $m.name "emptyDir" dict))))))) }}
{{- else if has (trimSuffix "/" $m.mountPath) $mounts }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.extraVolumeMounts[%d].mountPath (%s) is mounted already in that container: the API server refuses two mounts at one path. Fix: --set %s.extraVolumeMounts[%d].mountPath=/mnt/%s" $path $i $m.mountPath $path $i $m.name)) }}
{{- end }}
{{- $mounts = append $mounts (trimSuffix "/" $m.mountPath) }}
{{- end }}
{{- $names := $.containers }}
{{- $ports := $.ports }}
{{- range $kind := list "initContainers" "sidecars" }}
{{- range $i, $ctr := index $v $kind }}
{{- $at := printf "%s.%s[%d]" $path $kind $i }}
{{- if has $ctr.name $names }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.name (%s) is the name of another container of the pod: the API server refuses two containers of one name. Fix: --set %s.name=%s-%d" $at $ctr.name $at (trunc 50 $ctr.name) $i)) }}
{{- end }}
{{- $names = append $names $ctr.name }}
{{- include "mmo.validateResources" (dict "state" $state "path" (printf "%s.resources" $at) "resources" $ctr.resources) }}
{{- range $j, $p := $ctr.ports | default list }}
{{- $id := printf "%d/%s" (int $p.containerPort) ($p.protocol | default "TCP") }}
{{- if has $id $ports }}
{{- include "mmo.problem" (dict "state" $state "line" (printf "%s.ports[%d].containerPort (%s) is a port another container of the pod listens on: two containers share one network namespace, so one of them could not bind it. Fix: %s" $at $j $id (include "mmo.without" (list (printf "%s.ports" $at) $ctr.ports $j)))) }}
{{- end }}
{{- $ports = append $ports $id }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
