{{/*
mmo.validateUpgrade: what an upgrade cannot change in a data store the cluster already runs, read from
the live StatefulSet (`lookup`: install, upgrade and --dry-run=server see it; helm template sees
nothing and skips this, and the API server stays the backstop). A StatefulSet's volume claim
templates are immutable, so a new size, StorageClass or claim would fail the upgrade halfway; and the
official images read the database, user and password settings only when they initialise an empty
data directory, so a new name would leave the game servers asking for one that does not exist.
*/}}
{{- define "mmo.validateUpgrade" -}}
{{- $root := .root }}
{{- range $store := list "postgres" "redis" "rabbitmq" }}
{{- $s := index $root.Values $store }}
{{- $name := include (printf "mmo.%sName" $store) $root }}
{{- $live := lookup "apps/v1" "StatefulSet" $root.Release.Namespace $name }}
{{- if and $s.enabled $live }}
{{- $claim := dict }}
{{- range $live.spec.volumeClaimTemplates | default list }}{{ if eq .metadata.name "data" }}{{ $claim = . }}{{ end }}{{ end }}
{{- $liveClaim := "" }}
{{- range $live.spec.template.spec.volumes | default list }}{{ if and (eq .name "data") .persistentVolumeClaim }}{{ $liveClaim = .persistentVolumeClaim.claimName }}{{ end }}{{ end }}
{{- $why := printf "the installed StatefulSet %s keeps it, and a StatefulSet's volume claim template cannot change (docs/upgrades.md tells how to grow or move the volume)" $name }}
{{- if and $claim $s.persistence.existingClaim }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "%s.persistence.existingClaim (%s) is set, but the data lives on the claim data-%s-0 the StatefulSet made: %s. Fix: --set %s.persistence.existingClaim=" $store $s.persistence.existingClaim $name $why $store)) }}
{{- else if and $liveClaim (ne $liveClaim $s.persistence.existingClaim) }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "%s.persistence.existingClaim (%s) is not %s, the claim the installed StatefulSet %s keeps its data on. Fix: --set %s.persistence.existingClaim=%s" $store ($s.persistence.existingClaim | default "empty") $liveClaim $name $store $liveClaim)) }}
{{- else if $claim }}
{{- $size := $claim.spec.resources.requests.storage }}
{{- if ne (include "mmo.quantity" $size) (include "mmo.quantity" $s.persistence.size) }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "%s.persistence.size (%s) is not the %s of the data volume: %s. Fix: --set %s.persistence.size=%s" $store $s.persistence.size $size $why $store $size)) }}
{{- end }}
{{- $class := $claim.spec.storageClassName | default "" }}
{{- if ne $class $s.persistence.storageClass }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "%s.persistence.storageClass (%s) is not the StorageClass of the data volume (%s): %s. Fix: --set %s.persistence.storageClass=%s" $store ($s.persistence.storageClass | default "empty: the cluster default") ($class | default "the cluster default") $why $store $class)) }}
{{- end }}
{{- end }}
{{- $env := dict }}
{{- range $live.spec.template.spec.containers }}{{ if eq .name $store }}{{ range .env | default list }}{{ if hasKey . "value" }}{{ $_ := set $env .name .value }}{{ end }}{{ end }}{{ end }}{{ end }}
{{- range $setting := list (list "database" "POSTGRES_DB" "database") (list "username" "POSTGRES_USER" "user") (list "username" "RABBITMQ_DEFAULT_USER" "user") }}
{{- $key := index $setting 0 }}{{ $var := index $setting 1 }}
{{- if and (hasKey $s $key) (hasKey $env $var) (ne (index $s $key) (index $env $var)) }}
{{- include "mmo.problem" (dict "state" $.state "line" (printf "%s.%s (%s) is not %s, the %s the installed %s was created with: the image reads %s only when it initialises an empty data directory, so the game servers would ask for a %s that does not exist. Fix: --set %s.%s=%s" $store $key (index $s $key) (index $env $var) (index $setting 2) $store $var (index $setting 2) $store $key (index $env $var))) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
