import { describe, expect, it } from 'vitest';
import { CheckFailed, Inconclusive, runChecks, tally, type Category, type Checker, type CheckResult } from '../../../cli/checks/runner.ts';

const cat = (checkers: Omit<Checker<null>, 'explain'>[]): Category<null>[] => [{ id: 'c', title: 'c', checkers: checkers.map((c) => ({ explain: '', ...c })) }];

describe('the check runner', () => {
  it('reports each assertion as pass, a note, a warning or a failure by what the checker did', async () => {
    const results = await runChecks(
      cat([
        { id: 'a.pass', description: 'a', severity: 'fatal', check: () => {} },
        { id: 'a.note', description: 'b', severity: 'fatal', check: () => 'with a note' },
        { id: 'a.fail', description: 'c', severity: 'fatal', check: () => { throw new CheckFailed('broken'); } },
        { id: 'a.warn', description: 'd', severity: 'warning', check: () => { throw new CheckFailed('not great'); } },
        { id: 'a.skip', description: 'e', severity: 'fatal', check: () => ({ status: 'skip', message: 'off' }) },
        { id: 'a.unsure', description: 'f', severity: 'fatal', check: () => { throw new Inconclusive('warn', 'may not read'); } },
      ]),
      null,
      { timeoutMs: 1000 },
    );
    expect(results.map((r) => [r.id, r.status, r.message])).toEqual([
      ['a.pass', 'pass', undefined],
      ['a.note', 'pass', 'with a note'],
      ['a.fail', 'fail', 'broken'],
      ['a.warn', 'warn', 'not great'],
      ['a.skip', 'skip', 'off'],
      ['a.unsure', 'warn', 'may not read'],
    ]);
    expect(tally(results)).toEqual({ pass: 2, warn: 2, fail: 1, skip: 1 });
    expect(results.every((r) => r.hint.endsWith(`checks.md#${r.id.replace('.', '-')}`))).toBe(true);
  });

  it('skips a check whose prerequisite failed or was skipped, and runs it after one that only warned', async () => {
    const ran: string[] = [];
    const results = await runChecks(
      cat([
        { id: 'x.down', description: 'the API answers', severity: 'fatal', check: () => { throw new CheckFailed('no'); } },
        { id: 'x.off', description: 'off', severity: 'fatal', check: () => ({ status: 'skip', message: 'n/a' }) },
        { id: 'x.meh', description: 'meh', severity: 'warning', check: () => { throw new CheckFailed('meh'); } },
        { id: 'x.a', description: 'a', severity: 'fatal', needs: ['x.down'], check: () => { ran.push('a'); } },
        { id: 'x.b', description: 'b', severity: 'fatal', needs: ['x.off'], check: () => { ran.push('b'); } },
        { id: 'x.c', description: 'c', severity: 'fatal', needs: ['x.meh'], check: () => { ran.push('c'); } },
      ]),
      null,
      { timeoutMs: 1000 },
    );
    expect(ran).toEqual(['c']);
    expect(results.find((r) => r.id === 'x.a')).toMatchObject({ status: 'skip', message: 'not checked: "the API answers" did not pass' });
    expect(results.find((r) => r.id === 'x.b')?.status).toBe('skip');
  });

  it('runs independent checks at the same time and fails one that outlives its timeout', async () => {
    const seen: CheckResult[] = [];
    let inFlight = 0;
    let most = 0;
    const slow = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise<void>((r) => setTimeout(r, 50));
      inFlight--;
    };
    const results = await runChecks(
      cat([
        { id: 'p.one', description: 'one', severity: 'fatal', check: slow },
        { id: 'p.two', description: 'two', severity: 'fatal', check: slow },
        { id: 'p.hang', description: 'hang', severity: 'fatal', timeoutMs: 100, check: () => new Promise<void>(() => {}) },
      ]),
      null,
      { timeoutMs: 5000, observer: (r) => seen.push(r) },
    );
    expect(most).toBe(2);
    expect(results.find((r) => r.id === 'p.hang')).toMatchObject({ status: 'fail', message: 'did not finish within 100 ms' });
    expect(seen.map((r) => r.id).sort()).toEqual(['p.hang', 'p.one', 'p.two']);
  });

  it('refuses a check list where a check needs one declared after it (no cycles)', async () => {
    await expect(
      runChecks(cat([{ id: 'z.a', description: 'a', severity: 'fatal', needs: ['z.b'], check: () => {} }, { id: 'z.b', description: 'b', severity: 'fatal', check: () => {} }]), null, { timeoutMs: 100 }),
    ).rejects.toThrow('check z.a needs z.b, which is not declared before it');
  });
});
