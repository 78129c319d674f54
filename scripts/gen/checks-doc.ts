/**
 * Writes docs/checks.md, the reference of every preflight check, from the checks themselves
 * (cli/checks/preflight.ts: id, assertion, severity, prerequisites, explanation). Hints in the CLI's
 * output link to its anchors. The chart suite fails when the file is stale; `npm run gen` rewrites it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { PREFLIGHT } from '../../cli/checks/preflight.ts';
import { PROJECT_ROOT } from '../lib/root.ts';

export const CHECKS_DOC_PATH = join(PROJECT_ROOT, 'docs', 'checks.md');

const TEMPLATE = `# Preflight checks

<!-- Generated from cli/checks/preflight.ts by \`npm run gen\`; do not edit. -->

\`mmoctl preflight\` runs these checks, and \`mmoctl install\` and \`mmoctl upgrade\` run them before
changing anything (\`--skip-preflight\` leaves them out). They run in parallel, each under its own
timeout; a check whose prerequisite did not pass is skipped and says which. Results: **✔ pass**,
**‼ warn** (exit 4 from \`preflight\`; install and upgrade go on), **× fail** (exit 3; install and
upgrade stop with nothing changed), **○ skip** (not applicable, with the reason). \`-o json\` gives each
result with its id, status, message and duration (docs/cli.md).

| check | asserts | when it does not hold |
|---|---|---|
{{#each checks}}
| [\`{{id}}\`](#{{anchor}}) | {{description}} | {{#if fatal}}fails{{else}}warns{{/if}} |
{{/each}}
{{#each categories}}

## {{title}}
{{#each checkers}}

<a id="{{anchor}}"></a>
### \`{{id}}\`: {{description}}

{{{explain}}}

{{#if needs}}Runs after: {{#each needs}}\`{{this}}\`{{#unless @last}}, {{/unless}}{{/each}}. {{/if}}{{#if fatal}}A failure stops install and upgrade.{{else}}Only warns.{{/if}}
{{/each}}
{{/each}}
`;

export function renderChecksDoc(): string {
  const anchor = (id: string) => id.replace(/\./g, '-');
  const categories = PREFLIGHT.map((c) => ({
    title: c.title.charAt(0).toUpperCase() + c.title.slice(1),
    checkers: c.checkers.map((k) => ({ id: k.id, anchor: anchor(k.id), description: k.description, explain: k.explain, needs: k.needs ?? [], fatal: k.severity === 'fatal' })),
  }));
  return Handlebars.compile(TEMPLATE, { noEscape: true })({ categories, checks: categories.flatMap((c) => c.checkers) });
}

if (import.meta.main) {
  await writeFile(CHECKS_DOC_PATH, renderChecksDoc());
  process.stdout.write(`wrote ${CHECKS_DOC_PATH}\n`);
}
