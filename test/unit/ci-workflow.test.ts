// The ready-to-copy CI workflow of docs/examples (docs/ci.md): it parses as a GitHub Actions
// workflow, and every mmoctl command line in it is one the real command definitions accept — the
// same oclif parser, flags and option values the CLI runs with — so the example cannot drift from
// the CLI. The checker itself is shown to refuse what the CLI refuses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@oclif/core';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/commands.ts';
import { PROJECT_ROOT } from '../../scripts/lib/root.ts';

const WORKFLOW = join(PROJECT_ROOT, 'docs', 'examples', 'github-actions-deploy.yml');

/**
 * Shell words of one command line: quotes removed, `${{ … }}` and `$VAR` replaced by a placeholder,
 * stopping at the first operator (`|`, `>`, `&&`, `;`) so redirections are not taken as arguments.
 */
export function shellWords(line: string): string[] {
  const text = line.replace(/\$\{\{[^}]*\}\}/g, 'X').replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, 'X');
  const words: string[] = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unbalanced ${c} in: ${line}`);
      cur += text.slice(i + 1, end);
      has = true;
      i = end;
    } else if (/\s/.test(c)) {
      if (has) words.push(cur);
      cur = '';
      has = false;
    } else if ('|;&<>'.includes(c) || (c === '2' && text[i + 1] === '>')) {
      break;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) words.push(cur);
  return words;
}

/** Every mmoctl invocation in a step's script: continuation lines joined, one command per line. */
export function mmoctlLines(script: string): string[] {
  return script
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /(^|[\s;&|(])mmoctl\s/.test(l) && !l.startsWith('#') && !l.startsWith('echo'))
    .map((l) => l.slice(l.search(/mmoctl\s/)));
}

/** Checks one mmoctl command line against the command definitions; the problem, or undefined when valid. */
export async function invalidReason(line: string): Promise<string | undefined> {
  const words = shellWords(line).slice(1);
  const commands = COMMANDS as Record<string, { flags?: object; baseFlags?: object; args?: object }>;
  let id: string | undefined;
  let n = 0;
  for (let k = Math.min(words.length, 3); k >= 1 && !id; k--) {
    const candidate = words.slice(0, k).join(':');
    if (candidate in commands) [id, n] = [candidate, k];
  }
  if (!id) return `no mmoctl command "${words.slice(0, 2).join(' ')}"`;
  const cmd = commands[id]!;
  try {
    await Parser.parse(words.slice(n), { flags: { ...cmd.baseFlags, ...cmd.flags } as never, args: (cmd.args ?? {}) as never, strict: true });
    return undefined;
  } catch (err) {
    return `mmoctl ${id.replace(/:/g, ' ')}: ${err instanceof Error ? err.message.replace(/\s+/g, ' ').trim() : String(err)}`;
  }
}

interface Step {
  name?: string;
  run?: string;
  uses?: string;
}
interface Workflow {
  name: string;
  on: unknown;
  jobs: Record<string, { 'runs-on': string; steps: Step[]; needs?: string | string[] }>;
}

const workflow = parse(readFileSync(WORKFLOW, 'utf8')) as Workflow;
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const lines = steps.flatMap((s) => (s.run ? mmoctlLines(s.run) : []));

describe('the CI workflow example (docs/examples/github-actions-deploy.yml)', () => {
  it('is a workflow: a trigger, jobs that run on a runner, each step running a script or an action', () => {
    expect(workflow.on).toBeDefined();
    expect(Object.keys(workflow.jobs)).toEqual(['build', 'deploy']);
    for (const job of Object.values(workflow.jobs)) {
      expect(job['runs-on']).toMatch(/^ubuntu-/);
      for (const s of job.steps) expect(Boolean(s.run) !== Boolean(s.uses), JSON.stringify(s)).toBe(true);
    }
    expect(workflow.jobs.deploy!.needs).toBe('build');
  });

  it('builds, scans and pushes the image, then ships it with a canary whose exit code decides the job', () => {
    const scripts = steps.map((s) => `${s.uses ?? ''} ${s.run ?? ''}`).join('\n');
    expect(scripts).toMatch(/docker build/);
    expect(scripts).toMatch(/trivy-action/);
    expect(scripts).toMatch(/docker push/);
    const canary = steps.find((s) => s.run?.includes('--canary'))!.run!;
    for (const code of ['0', '2', '3', '4']) expect(canary).toMatch(new RegExp(`^\\s+${code}\\) `, 'm'));
    expect(canary).toMatch(/3\) .*exit 3/);
  });

  it('runs mmoctl with command lines the real command definitions accept', async () => {
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.map((l) => shellWords(l).slice(0, 2).join(' '))).toEqual(expect.arrayContaining(['mmoctl values', 'mmoctl preflight', 'mmoctl backup', 'mmoctl upgrade', 'mmoctl status']));
    const problems = (await Promise.all(lines.map(invalidReason))).filter(Boolean);
    expect(problems).toEqual([]);
  });
});

describe('the command-line check', () => {
  it.each([
    ['mmoctl upgrade --canery --version X', /Nonexistent flag: --canery/],
    ['mmoctl upgrade --canary --steps many', /Expected an integer/],
    ['mmoctl status -o xml', /Expected --output=xml to be one of/],
    ['mmoctl restore --yes', /Missing required flag from/],
    ['mmoctl backup later', /no mmoctl command "backup later"/],
    ['mmoctl backup now extra', /Unexpected argument: extra/],
    ['mmoctl deploy --version X', /no mmoctl command "deploy --version"/],
  ])('refuses %s', async (line, why) => {
    expect(await invalidReason(line)).toMatch(why);
  });

  it('reads quotes, placeholders, continuations and redirections as the shell would', () => {
    expect(mmoctlLines('set +e\nmmoctl upgrade --version "$VERSION" \\\n  -n "${{ env.NS }}" -o json > out.json\ncode=$?')).toEqual(['mmoctl upgrade --version "$VERSION" -n "${{ env.NS }}" -o json > out.json']);
    expect(shellWords('mmoctl upgrade --version "$VERSION" -n \'game x\' -o json > out.json 2>&1')).toEqual(['mmoctl', 'upgrade', '--version', 'X', '-n', 'game x', '-o', 'json']);
  });
});
