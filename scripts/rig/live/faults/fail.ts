/**
 * Fault `fail` (pod annotation or label `mmo.dev/rig-fault`), preloaded into a process pod's
 * containers with `node --import`: the process exits with code 1 before its program runs, as a
 * failing migration or test would.
 */
process.stderr.write('mmo.dev/rig-fault=fail: exiting with code 1\n');
process.exit(1);
