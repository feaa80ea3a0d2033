import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Private PostgreSQL and Redis servers for fault tests: restarting, stopping or flushing them
 * disturbs nobody else (other test files and other runs share the machine's servers).
 */

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;

/** Runs a PostgreSQL binary as the postgres user when we are root (the server refuses root). */
function pgBin(name: string, args: string[], options: { allowFailure?: boolean } = {}): void {
  const version = readdirSync('/usr/lib/postgresql').sort().pop()!;
  const bin = `/usr/lib/postgresql/${version}/bin/${name}`;
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const result = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${name} ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  }
}

export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'at-faults-pg-'));
    if (isRoot()) {
      chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
    }
    pgBin('initdb', ['-D', join(dir, 'data'), '-U', 'root', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const pg = new PrivatePostgres(dir, await freePort());
    pg.up();
    return pg;
  }

  get url(): string {
    return `postgres://root@127.0.0.1:${this.port}/alliance_tracker`;
  }

  private options(): string {
    return `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  }

  up(): void {
    pgBin('pg_ctl', ['-D', join(this.dir, 'data'), '-o', this.options(), '-l', join(this.dir, 'log'), '-w', 'start']);
  }

  /** What `pg_ctlcluster ... restart` does: a fast shutdown (sessions terminated), then a start. */
  restart(): void {
    pgBin('pg_ctl', ['-D', join(this.dir, 'data'), '-o', this.options(), '-l', join(this.dir, 'log'), '-m', 'fast', '-w', 'restart']);
  }

  down(): void {
    pgBin('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop'], { allowFailure: true });
  }

  destroy(): void {
    pgBin('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'], { allowFailure: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class PrivateRedis {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(mkdtempSync(join(tmpdir(), 'at-faults-redis-')), await freePort());
    redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  up(): void {
    execFileSync('redis-server', [
      '--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--pidfile', join(this.dir, 'pid'), '--logfile', join(this.dir, 'log'),
    ]);
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') {
        return;
      }
      execFileSync('sleep', ['0.05']);
    }
    throw new Error('the private redis-server did not answer');
  }

  down(): void {
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave']);
  }

  flushAll(): void {
    execFileSync('redis-cli', ['-p', String(this.port), 'flushall']);
  }

  destroy(): void {
    this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
