#!/usr/bin/env node
// `npm start`: installs what is missing, migrates once, then runs the API and the worker
// side by side, forwarding signals so that both shut down gracefully. Node built-ins only:
// this runs before node_modules may exist.
const { spawn, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const run = (cmd, args, env = process.env) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.log('[start] installing dependencies (npm ci)');
  if (run('npm', ['ci']).status !== 0) {
    process.exit(1);
  }
}

const register = ['-r', '@swc-node/register'];
if (run(process.execPath, [...register, 'scripts/migrate.ts']).status !== 0) {
  process.exit(1);
}

// Migrations ran above; the two processes skip their own start-up migration.
const env = { ...process.env, MIGRATE_ON_START: 'false' };
const children = ['apps/api/src/main.ts', 'apps/worker/src/main.ts'].map((entry) =>
  spawn(process.execPath, [...register, entry], { cwd: root, stdio: 'inherit', env }),
);
let exiting = false;
const stopAll = (signal) => {
  exiting = true;
  for (const child of children) {
    if (child.exitCode === null) {
      child.kill(signal);
    }
  }
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => stopAll(signal));
}
for (const child of children) {
  child.on('exit', (code) => {
    if (!exiting) {
      // One half died: stop the other so a supervisor restarts the pair.
      stopAll('SIGTERM');
      process.exitCode = code ?? 1;
    }
  });
}
