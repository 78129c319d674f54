#!/usr/bin/env node
// The mmoctl command. Kept plain JavaScript that any Node.js parses, so an old one gets a clear
// message instead of a syntax error; the CLI itself is the compiled dist/cli (npm run build:cli).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`mmoctl needs Node.js 22.18 or newer; this is ${process.version}. Install a current Node.js (https://nodejs.org/) and run it again.\n`);
  process.exit(2);
}
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../dist/cli/main.js');
await main();
