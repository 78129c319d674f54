{{/*
Reading values the way Kubernetes and Prometheus do, for the checks in _validate*.tpl: quantities,
durations, CIDRs; and writing fixes (a value at a dotted path, shell quoting, a list without an item).
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
mmo.durationMs: a Prometheus duration ("1m30s", the schema's pattern) in milliseconds.
*/}}
{{- define "mmo.durationMs" -}}
{{- $unit := dict "y" 31536000000 "w" 604800000 "d" 86400000 "h" 3600000 "m" 60000 "s" 1000 "ms" 1 }}
{{- $ms := 0 }}
{{- range regexFindAll "[0-9]+(ms|y|w|d|h|m|s)" (toString .) -1 }}
{{- $n := regexFind "^[0-9]+" . }}
{{- $ms = add $ms (mul (atoi $n) (index $unit (trimPrefix $n .))) }}
{{- end }}
{{- $ms }}
{{- end }}

{{/*
mmo.pow2: 2^n for 0 ≤ n ≤ 62. Usage: include "mmo.pow2" 8 | int64
*/}}
{{- define "mmo.pow2" -}}
{{- $v := 1 }}{{ range until (int .) }}{{ $v = mul $v 2 }}{{ end }}{{ $v }}
{{- end }}

{{/*
mmo.cidrNetwork: for a CIDR with bits set beyond its prefix ("10.0.0.1/8"), the network it means
("10.0.0.0/8"; IPv6 written out in full); empty for a CIDR that is already a network. Expects the
schema's CIDR syntax.
*/}}
{{- define "mmo.cidrNetwork" -}}
{{- $addr := index (splitList "/" .) 0 }}
{{- $prefix := index (splitList "/" .) 1 | atoi }}
{{- $changed := false }}
{{- $out := list }}
{{- if contains "." $addr }}
{{- range $i, $o := splitList "." $addr }}
{{- $v := atoi $o }}
{{- $start := mul 8 $i }}
{{- if le $prefix $start }}{{ if $v }}{{ $changed = true }}{{ end }}{{ $v = 0 }}
{{- else if lt $prefix (add $start 8) }}
{{- $size := include "mmo.pow2" (sub (add $start 8) $prefix) | int64 }}
{{- if mod $v $size }}{{ $changed = true }}{{ $v = sub $v (mod $v $size) }}{{ end }}
{{- end }}
{{- $out = append $out (toString $v) }}
{{- end }}
{{- if $changed }}{{ printf "%s/%d" (join "." $out) $prefix }}{{ end }}
{{- else }}
{{- $halves := splitList "::" $addr }}
{{- $head := list }}{{ if index $halves 0 }}{{ $head = splitList ":" (index $halves 0) }}{{ end }}
{{- $tail := list }}{{ if and (gt (len $halves) 1) (index $halves 1) }}{{ $tail = splitList ":" (index $halves 1) }}{{ end }}
{{- $words := $head }}
{{- range until (int (sub 8 (add (len $head) (len $tail)))) }}{{ $words = append $words "0" }}{{ end }}
{{- range $i, $w := concat $words $tail }}
{{- $v := int64 (printf "0x%s" $w) }}
{{- $start := mul 16 $i }}
{{- if le $prefix $start }}{{ if $v }}{{ $changed = true }}{{ end }}{{ $v = 0 }}
{{- else if lt $prefix (add $start 16) }}
{{- $size := include "mmo.pow2" (sub (add $start 16) $prefix) | int64 }}
{{- if mod $v $size }}{{ $changed = true }}{{ $v = sub $v (mod $v $size) }}{{ end }}
{{- end }}
{{- $out = append $out (printf "%x" $v) }}
{{- end }}
{{- if $changed }}{{ printf "%s/%d" (join ":" $out) $prefix }}{{ end }}
{{- end }}
{{- end }}

{{/*
mmo.valueAt: the value at a dotted path of .Values, as JSON. Usage: include "mmo.valueAt" (dict "root" $ "path" "a.b") | fromJson
*/}}
{{- define "mmo.valueAt" -}}
{{- $v := .root.Values }}
{{- range splitList "." .path }}{{ $v = index $v . }}{{ end }}
{{- toJson $v }}
{{- end }}

{{/*
mmo.shellQuote: a string in single quotes for a POSIX shell (the JSON of --set-json fixes).
*/}}
{{- define "mmo.shellQuote" -}}
'{{ replace "'" "'\\''" . }}'
{{- end }}

{{/*
mmo.without: a list without its i-th item, as a --set-json fix. Usage: include "mmo.without" (list "path" $list $i)
*/}}
{{- define "mmo.without" -}}
{{- $path := index . 0 }}{{ $list := index . 1 }}{{ $i := index . 2 }}
{{- $kept := list }}
{{- range $j, $x := $list }}{{ if ne $j $i }}{{ $kept = append $kept $x }}{{ end }}{{ end }}
{{- printf "--set-json %s" (include "mmo.shellQuote" (printf "%s=%s" $path (toJson $kept))) }}
{{- end }}
