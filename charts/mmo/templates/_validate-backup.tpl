{{/*
mmo.validateBackup: what backup.* needs from the rest of the values and from the cluster, used by
mmo.validateValues (_validate.tpl). A dump needs a PostgreSQL to read (the bundled one, or the
external one when asked for by name); a Velero Schedule needs Velero's kind, which offline renders
name with --api-versions as they do prometheus-operator's.
Usage: include "mmo.validateBackup" (dict "root" $ "state" $state)
*/}}
{{- define "mmo.validateBackup" -}}
{{- $v := .root.Values }}
{{- $b := $v.backup.pgDump }}
{{- if $b.enabled }}
{{- if and (eq $b.target "bundled") (not $v.postgres.enabled) }}
{{- include "mmo.problem" (dict "state" .state "line" "backup.pgDump.target is bundled but postgres.enabled is false: backup.pgDump.enabled asks for dumps of the bundled PostgreSQL, which this release does not run, so there is nothing to dump (a managed database usually keeps backups of its own). Fix: --set backup.pgDump.target=external, or --set backup.pgDump.enabled=false") }}
{{- else if and (eq $b.target "external") $v.postgres.enabled }}
{{- include "mmo.problem" (dict "state" .state "line" "backup.pgDump.target is external but postgres.enabled is true: the release runs its own PostgreSQL and has no external one to dump. Fix: --set backup.pgDump.target=bundled") }}
{{- end }}
{{- include "mmo.validateResources" (dict "state" .state "path" "backup.pgDump.resources" "resources" $b.resources) }}
{{- end }}
{{- if and $v.backup.velero.enabled (not (.root.Capabilities.APIVersions.Has "velero.io/v1/Schedule")) }}
{{- include "mmo.problem" (dict "state" .state "line" "backup.velero.enabled is true but the cluster has no Schedule kind (velero.io/v1): Velero is not installed (offline renders with helm template name the kinds the cluster has with --api-versions). Fix: --set backup.velero.enabled=false, or --api-versions velero.io/v1/Schedule") }}
{{- end }}
{{- end }}
