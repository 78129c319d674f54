/**
 * `npm run rig -- <up|down|status|kubeconfig|build> [--live] [--json] [--restricted]`
 *
 * up          build the binaries if needed, start this checkout's rig (or reuse it), print KUBECONFIG
 *             (`--live`: its live rig, whose process pods run, with a pod network and Prometheus; root)
 * down        stop exactly the processes this checkout's rigs started (plain and live), undo the live
 *             rig's network, and remove their state
 * status      components, PIDs, resident memory, /readyz, Ready nodes; exit 3 when not running
 * kubeconfig  print the admin kubeconfig path (`--restricted`: the namespace-only one)
 * build       only build (or find) the cached binaries
 *
 * Exit codes follow contract/exit-codes.ts: 0 ok, 1 unexpected error, 2 bad usage, 3 not running.
 */
import { EXIT } from '../../contract/exit-codes.ts';
import { ensureRigBinaries } from './build.ts';
import { down, kubeconfigPaths, status, up } from './rig.ts';
import type { RigStatus } from './status.ts';

const USAGE = 'usage: npm run rig -- <up|down|status|kubeconfig|build> [--live] [--json] [--restricted]';

function printStatus(st: RigStatus): void {
  console.log(`rig: ${st.state} (${st.stateDir})`);
  if (st.server) console.log(`server: ${st.server}   readyz: ${st.readyz ?? '-'}   nodes ready: ${st.nodesReady ?? 0}`);
  for (const c of st.components) {
    console.log(`  ${c.name.padEnd(24)} pid ${String(c.pid).padEnd(8)} ${c.running ? `running  ${(c.rssKiB / 1024).toFixed(0).padStart(5)} MiB` : 'not running'}`);
  }
  if (st.components.length) console.log(`  ${'total resident memory'.padEnd(24)} ${''.padEnd(21)}${(st.totalRssKiB / 1024).toFixed(0).padStart(5)} MiB`);
  if (st.kubeconfig && st.state === 'running') console.log(`export KUBECONFIG=${st.kubeconfig}`);
}

async function main(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const json = rest.includes('--json');
  const live = rest.includes('--live');
  const unknown = rest.filter((a) => a !== '--json' && a !== '--restricted' && a !== '--live');
  if (unknown.length) {
    console.error(`unknown argument ${unknown[0]}\n${USAGE}`);
    return EXIT.invalidInput;
  }
  const log = (line: string) => console.error(line);
  switch (action) {
    case 'up': {
      const info = await up({ log, live });
      if (json) console.log(JSON.stringify(info, null, 2));
      else {
        console.error(info.reused ? `rig already running: ${info.server}` : `rig up in ${(info.upMs / 1000).toFixed(1)}s: ${info.server}`);
        console.log(`export KUBECONFIG=${info.kubeconfig}`);
        console.error(`restricted (namespace ${info.restrictedNamespace} only): ${info.restrictedKubeconfig}`);
        if (info.live) {
          const l = info.live;
          console.error(`process pods (label mmo.dev/rig-run=process): ${l.podCidr} on ${l.bridge}; pods reach this machine at ${l.hostAddress}`);
          console.error(`nodes: ${l.nodes.map((n) => `${n.name} ${n.internalIP} / ${n.externalIP}`).join(', ')}`);
          console.error(`data services for pods (start them with npm run services -- up): ${Object.entries(l.services).map(([k, v]) => `${k}=${v}`).join(' ')}`);
          console.error(`pod logs: ${l.podsDir}`);
          console.error(`Prometheus: ${l.prometheusUrl} (mmoctl: --prometheus-url ${l.prometheusUrl})`);
        }
      }
      return EXIT.ok;
    }
    case 'down': {
      // Both rigs of this checkout: the live one first (its pods use the machine's network).
      const stopped = [...(await down({ live: true, log })), ...(await down({ log }))];
      if (json) console.log(JSON.stringify({ stopped }, null, 2));
      else console.log(stopped.length ? `stopped ${stopped.join(', ')}` : 'no rig was running for this checkout');
      return EXIT.ok;
    }
    case 'status': {
      const st = await status({ live });
      if (json) console.log(JSON.stringify(st, null, 2));
      else printStatus(st);
      return st.state === 'running' ? EXIT.ok : EXIT.failed;
    }
    case 'kubeconfig': {
      const st = await status({ live });
      if (st.state !== 'running') {
        console.error(`the ${live ? 'live ' : ''}rig of this checkout is ${st.state}; start it with: npm run rig -- up${live ? ' --live' : ''}`);
        return EXIT.failed;
      }
      const paths = kubeconfigPaths({ live });
      console.log(rest.includes('--restricted') ? paths.restricted : paths.admin);
      return EXIT.ok;
    }
    case 'build': {
      const bins = await ensureRigBinaries({ log });
      if (json) console.log(JSON.stringify(bins, null, 2));
      else for (const [name, path] of Object.entries(bins.paths)) console.log(`${name.padEnd(24)} ${path}`);
      return EXIT.ok;
    }
    default:
      console.error(USAGE);
      return EXIT.invalidInput;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = EXIT.unexpected;
}
