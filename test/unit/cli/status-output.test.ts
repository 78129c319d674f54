// What `mmoctl status` prints: the human screen pinned by golden files (plain style), the JSON document
// checked against its definition in cli/schemas/mmoctl.schema.json, and the one-line form `--wait` prints on a pipe.
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../contract/exit-codes.ts';
import { clustersDocument, clustersExitCode, overallVerdict, renderClusters, type ClusterStatus } from '../../../cli/status/clusters.ts';
import { statusDocument, type StatusReport } from '../../../cli/status/model.ts';
import { renderStatus, statusLine, statusSignature } from '../../../cli/status/render.ts';
import { PLAIN } from '../../../cli/ui/style.ts';
import { assertDocument } from '../../support/cli.ts';
import { golden } from './golden.ts';
import { ReleaseWorld, report } from './release-world.ts';

/** Three pictures an on-call would see: all fine; limping; players locked out. */
const SCREENS: Record<string, () => Promise<StatusReport>> = {
  healthy: () => {
    const w = new ReleaseWorld();
    w.event('Pod', 'game-mmo-server-5d8f9c7b6-qak0', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 6, 3);
    return report(w);
  },
  degraded: () => {
    const w = new ReleaseWorld();
    w.crashLoop(w.pods.find((p) => p.metadata!.name!.startsWith('game-mmo-server-'))!, 9);
    w.deployments[0]!.status = { ...w.deployments[0]!.status, readyReplicas: 1, availableReplicas: 1 };
    w.addGameServers('canary', 'game-mmo-server-canary', 1, '0.3.0', '7c9e4f2a1');
    w.event('Pod', 'game-mmo-server-5d8f9c7b6-qak0', 'BackOff', 'Back-off restarting failed container server in pod game-mmo-server-5d8f9c7b6-qak0', 0, 41);
    const h = w.hpas[0]!;
    h.status = {
      currentReplicas: 2,
      desiredReplicas: 0,
      conditions: [{ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API' }],
    };
    w.syncSlices();
    return report(w);
  },
  down: () => {
    const w = new ReleaseWorld();
    w.release = { ...w.release!, revision: 4, status: 'failed', chart: 'mmo-0.3.0', chartVersion: '0.3.0', appVersion: '0.3.0', description: 'Upgrade "game" failed: context deadline exceeded', updated: '2026-12-04T11:52:00Z' };
    w.history.push({ revision: 4, updated: '2026-12-04T11:52:00Z', status: 'failed', chart: 'mmo-0.3.0', appVersion: '0.3.0', description: w.release.description });
    const sts = w.find(w.statefulSets, 'game-mmo-postgres');
    sts.status = { ...sts.status!, readyReplicas: 0, availableReplicas: 0 };
    w.crashLoop(w.find(w.pods, 'game-mmo-postgres-0'), 5);
    w.find(w.services, 'game-mmo-server').status = { loadBalancer: {} };
    w.syncSlices();
    return report(w, (k) => k.forbidden.add('Event'));
  },
};

describe('mmoctl status output', () => {
  it.each(Object.keys(SCREENS))('shows the %s picture on one screen, verdict and reasons first', async (name) => {
    const r = await SCREENS[name]!();
    expect(r.verdict).toBe(name);
    golden(`status-${name}`, renderStatus({ ...r, durationMs: 0 }, PLAIN));
  });

  it.each(Object.keys(SCREENS))('prints the %s picture as a StatusReport the schema accepts', async (name) => {
    const doc = JSON.parse(JSON.stringify(statusDocument(await SCREENS[name]!()))) as Record<string, unknown>;
    expect(doc).toMatchObject({ apiVersion: 'mmoctl.dev/v1alpha1', kind: 'StatusReport', verdict: name });
    expect(() => assertDocument(doc)).not.toThrow();
  });

  it('the schema refuses a document whose shape drifted', async () => {
    const doc = JSON.parse(JSON.stringify(statusDocument(await SCREENS.healthy!()))) as { verdict: string; gameServers: { pods: { players: unknown }[] } };
    doc.verdict = 'fine';
    doc.gameServers.pods[0]!.players = 'lots';
    expect(() => assertDocument(doc)).toThrow(/StatusReport does not match its schema:[\s\S]*\/verdict must be equal to one of the allowed values[\s\S]*\/gameServers\/pods\/0\/players must be integer,null/);
  });

  it('--wait on a pipe prints one timestamped line per change, not per growing restart count', async () => {
    const a = await SCREENS.degraded!();
    expect(statusLine(a, PLAIN)).toBe(`12:00:00 ‼ degraded: ${a.reasons.map((f) => f.message).join('; ')}`);
    const later = { ...a, reasons: a.reasons.map((f) => ({ ...f, message: f.message.replace('9 restarts', '10 restarts') })) };
    expect(statusSignature(later)).toBe(statusSignature(a));
    expect(statusSignature(await SCREENS.healthy!())).not.toBe(statusSignature(a));
  });
});

describe('mmoctl status over several clusters', () => {
  /** eu-west healthy, us-east limping, ap-south unreadable. */
  async function regions(): Promise<ClusterStatus[]> {
    return [
      { context: 'eu-west', report: { ...(await SCREENS.healthy!()), durationMs: 0 } },
      { context: 'us-east', report: { ...(await SCREENS.degraded!()), durationMs: 0 } },
      {
        context: 'ap-south',
        error: { exitCode: EXIT.failed, message: 'cannot reach the API server at https://ap-south.example:6443: connect ECONNREFUSED', hint: 'Check the context with `kubectl --context ap-south cluster-info`.' },
      },
    ];
  }

  it('shows the clusters side by side, each reason under its cluster, the unreadable one saying why', async () => {
    golden('status-clusters', renderClusters(await regions(), { release: 'game', namespace: 'game' }, PLAIN));
  });

  it('judges by the worst cluster; one that cannot be read counts as down', async () => {
    const [eu, us, ap] = await regions();
    expect(overallVerdict([eu!, eu!])).toBe('healthy');
    expect(clustersExitCode([eu!, eu!])).toBe(EXIT.ok);
    expect(overallVerdict([eu!, us!])).toBe('degraded');
    expect(clustersExitCode([eu!, us!])).toBe(EXIT.failed);
    expect(overallVerdict([eu!, ap!])).toBe('down');
    expect(clustersExitCode([eu!, ap!])).toBe(EXIT.failed);
  });

  it('prints a MultiClusterStatus the schema accepts, with every StatusReport in it checked too', async () => {
    const doc = JSON.parse(JSON.stringify(clustersDocument(await regions()))) as { verdict: string; clusters: { context: string; verdict: string; report?: { verdict: string } }[] };
    expect(doc).toMatchObject({ kind: 'MultiClusterStatus', verdict: 'down' });
    expect(doc.clusters.map((c) => [c.context, c.verdict])).toEqual([['eu-west', 'healthy'], ['us-east', 'degraded'], ['ap-south', 'down']]);
    expect(() => assertDocument(doc)).not.toThrow();
    doc.clusters[0]!.report!.verdict = 'fine';
    expect(() => assertDocument(doc)).toThrow(/MultiClusterStatus does not match its schema:[\s\S]*\/clusters\/0\/report\/verdict/);
  });
});
