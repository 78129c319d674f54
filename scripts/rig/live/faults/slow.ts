/**
 * Fault `slow` (pod annotation or label `mmo.dev/rig-fault`), preloaded into a process pod's
 * containers with `node --import`: the event loop is blocked for STALL_MS of every PERIOD_MS, so
 * every message waits (moves are acknowledged late: p95 well above the 100 ms target, whatever the
 * machine's load) while the process stays alive and ready — a canary that passes its probes but
 * plays badly. The thread sleeps in Atomics.wait: no CPU is burnt.
 */
const STALL_MS = 400;
const PERIOD_MS = 500;

const cell = new Int32Array(new SharedArrayBuffer(4));
setInterval(() => Atomics.wait(cell, 0, 0, STALL_MS), PERIOD_MS).unref();
process.stderr.write(`mmo.dev/rig-fault=slow: the event loop stalls ${STALL_MS} ms of every ${PERIOD_MS} ms\n`);
