/**
 * Fault `crashloop` (pod annotation or label `mmo.dev/rig-fault`), preloaded into a process pod's
 * containers with `node --import`: the process starts as usual, then exits with code 1 a second
 * later — a real crash for the rig's kubelet to restart with back-off (CrashLoopBackOff).
 */
setTimeout(() => {
  process.stderr.write('mmo.dev/rig-fault=crashloop: exiting with code 1\n');
  process.exit(1);
}, 1000).unref();
