import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr. */
  output: string[];
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string | null>;
  alive(): boolean;
}

/** The API or the worker as `npm run start:api` / `start:worker` runs it. */
export function spawnApp(kind: 'api' | 'worker', env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${kind}/src/main.ts`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return {
    name: `${kind} ${child.pid}`,
    child,
    output,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

export async function stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.alive()) {
    proc.child.kill(signal);
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
    await proc.exited;
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries until `check` returns truthy or the deadline passes; returns how long it took. */
export async function waitUntil(what: string, check: () => Promise<unknown> | unknown, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      if (await check()) {
        return Date.now() - started;
      }
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await sleep(100);
  }
}
