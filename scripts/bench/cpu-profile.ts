/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and lists where the time went: self time per function
 * and, for the functions named in the hot list, total (inclusive) time. `node scripts/bench/cpu-profile.ts
 * FILE [N]` prints the top N.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function label(n: ProfileNode): string {
  const cf = n.callFrame;
  const file = cf.url ? cf.url.split('/').slice(-2).join('/') : '';
  return `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
}

/**
 * The top `n` functions by self time, with their inclusive time, as aligned text. `window` keeps
 * only the samples between `fromS` and `toS` seconds after the profile started (e.g. the measured
 * window of a load test, without start-up and the connect ramp).
 */
export function summarizeProfile(p: Profile, n = 30, window?: { fromS: number; toS: number }): string {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const selfUs = new Map<number, number>();
  let total = 0;
  let at = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    at += dt;
    if (window && (at < window.fromS * 1e6 || at > window.toS * 1e6)) continue;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt);
    total += dt;
  }
  // Inclusive time per node: its self time plus its subtree's.
  const incl = new Map<number, number>();
  const visit = (id: number): number => {
    const node = byId.get(id)!;
    let t = selfUs.get(id) ?? 0;
    for (const c of node.children ?? []) t += visit(c);
    incl.set(id, t);
    return t;
  };
  visit(p.nodes[0]!.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const node of p.nodes) {
    const k = label(node);
    self.set(k, (self.get(k) ?? 0) + (selfUs.get(node.id) ?? 0));
    // A recursive function would count twice; good enough for a hot list.
    inclusive.set(k, (inclusive.get(k) ?? 0) + (incl.get(node.id) ?? 0));
  }
  const pct = (v: number) => `${((v / Math.max(1, total)) * 100).toFixed(1).padStart(5)} %`;
  const lines = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${pct(v)} self ${pct(inclusive.get(k) ?? 0)} total  ${k}`);
  return [`profile: ${(total / 1e6).toFixed(1)} s sampled`, ...lines].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node scripts/bench/cpu-profile.ts FILE.cpuprofile [N] [FROM_S-TO_S]\n');
    process.exit(2);
  }
  const p = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const range = process.argv[4]?.split('-').map(Number);
  const window = range && range.length === 2 && range.every(Number.isFinite) ? { fromS: range[0]!, toS: range[1]! } : undefined;
  process.stdout.write(`${summarizeProfile(p, Number(process.argv[3] ?? 30), window)}\n`);
}
