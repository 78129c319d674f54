// How the compiled mmoctl treats its user before any cluster is involved: unknown commands and flags,
// bad flag values, a missing helm, and errors as documents for machines.
import { describe, expect, inject, it } from 'vitest';
import { json, mmoctl } from '../support/cli.ts';

const helm = () => inject('helmPaths')[3];

describe('mmoctl on bad input', () => {
  it('refuses an unknown command with exit 2 and the command the user likely meant', async () => {
    const r = await mmoctl(['instal'], { helm: helm() });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: "instal" is not an mmoctl command. Did you mean "install"?\nHint: `mmoctl help` lists the commands.\n');
  });

  it.each([
    [['values', 'validate', '--bogus'], /Nonexistent flag: --bogus/],
    [['values', 'validate', '--profile', 'prod'], /Expected --profile=prod to be one of: dev, staging, production/],
    [['install', '--timeout', 'soon'], /--timeout soon: not a duration; write it as 90s, 5m or 1h30m/],
    [['rollback', 'two'], /Expected an integer but received: two/],
    [['init'], /Missing required flag profile/],
  ])('%j is invalid input (exit 2), said in one line', async (args, message) => {
    const r = await mmoctl(args, { helm: helm() });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('says how to get helm when there is none, as invalid input', async () => {
    const r = await mmoctl(['values', 'validate'], { env: { MMOCTL_HELM: '/nonexistent/helm' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/helm from MMOCTL_HELM \(\/nonexistent\/helm\) does not exist or is not executable\.\nHint: Install helm 3\.14\+ or 4\.x/);
  });

  it('prints errors as an Error document on stdout with -o json', async () => {
    const r = await mmoctl(['values', 'validate', '--set', 'udp.mode=nope', '-o', 'json'], { helm: helm() });
    expect(r.code).toBe(2);
    expect(json<{ kind: string }>(r).kind).toBe('ValuesValidation');
    const missing = await mmoctl(['status-x', '-o', 'json'], { helm: helm() });
    expect(missing.code).toBe(2);
    const noCluster = await mmoctl(['history', '-o', 'json'], { helm: helm(), env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
    expect(noCluster.code).toBe(3);
    expect(json<{ kind: string; error: { message: string } }>(noCluster)).toMatchObject({ kind: 'Error', exitCode: 3 });
  });
});
