#!/usr/bin/env node
// The `tessera` command as npm links it (`npx tessera ...`). npm makes that link at install
// time, when a fresh clone has no packages/*/dist yet, so the link points here, at a committed
// file, rather than into dist. In the repository this file builds the packages first when their
// compiled JavaScript is missing; elsewhere it says what to run. Then it runs dist/main.js.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
const deps = ['@tessera/core', '@tessera/webgpu', '@tessera/reference', '@tessera/node', '@tessera/nn', '@tessera/data'];

/** True when dist/main.js and every package it imports resolve to a built file. */
function built() {
  if (!existsSync(fileURLToPath(main))) return false;
  try {
    return deps.every((d) => existsSync(fileURLToPath(import.meta.resolve(d))));
  } catch {
    return false; // not installed
  }
}

/** The monorepo root (the folder whose package.json has the build:packages script), or null. */
function repoRoot() {
  const root = new URL('../../../', import.meta.url);
  try {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    return pkg.name === 'tessera' && pkg.scripts?.['build:packages'] ? fileURLToPath(root) : null;
  } catch {
    return null;
  }
}

if (!built()) {
  const root = repoRoot();
  if (!root) {
    process.stderr.write('tessera: the compiled packages (dist/) are missing: run `npm run build:packages` in the Tessera repository\n');
    process.exit(1);
  }
  process.stderr.write('tessera: building the packages first (npm run build:packages)...\n');
  // `tsc -b --force`: a dist deleted by hand leaves its .tsbuildinfo behind, which would make
  // tsc skip the package. The output goes to stderr, so that stdout stays the command's (--json).
  const args = ['run', 'build:packages', '--silent', '--', '--force'];
  const r = spawnSync('npm', args, { cwd: root, stdio: ['ignore', 2, 2], shell: process.platform === 'win32' });
  if (r.status !== 0 || !built()) {
    process.stderr.write(`tessera: \`npm run build:packages\` failed${r.error ? ` (${r.error.message})` : ''}; run it in ${root} and try again\n`);
    process.exit(1);
  }
}

await import(main.href);
