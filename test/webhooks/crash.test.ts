import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTestApp, TestApp } from '../support/test-app';
import { TEST_REDIS_URL } from '../support/test-env';
import { Receiver } from './support/receiver';
import { append, deletePrefixKeys, eventually, fannedOut, joined, WEBHOOK_TEST_ENV } from './support/webhook-harness';

const ROOT = join(__dirname, '..', '..');

/** The worker as `npm run start:worker` runs it, against this file's database and Redis prefix. */
function spawnWorker(a: TestApp): ChildProcess {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/worker/src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: a.t.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: a.config.redisPrefix,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'error',
      ...WEBHOOK_TEST_ENV,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[worker ${child.pid}] ${chunk.toString()}`));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('a worker killed while deliveries are in flight', () => {
  let a: TestApp;
  let receiver: Receiver;
  let worker: ChildProcess | null = null;

  beforeAll(async () => {
    receiver = await Receiver.start();
    a = await createTestApp(WEBHOOK_TEST_ENV);
  });

  afterAll(async () => {
    if (worker) {
      worker.kill('SIGKILL');
      await exited(worker);
    }
    await receiver.close();
    await a.close();
    await deletePrefixKeys(a.config.redisPrefix);
  });

  it('a graceful stop (SIGTERM) finishes and records the requests in flight', async () => {
    const answered = new Set<string>();
    receiver.on('/graceful', (r) => ({ status: 200, delayMs: 200, after: new Promise((ok) => setTimeout(ok, 200)).then(() => answered.add(r.id)) }));
    const hook = (await a.as('admin').post('/webhooks').send({ url: receiver.url('/graceful') }).expect(201)).body as { id: string };
    worker = spawnWorker(a);
    for (let i = 0; i < 60; i++) {
      await append(a.t.db, `membership-graceful.org-${i}`, 'MemberJoined', joined('graceful', `org-${i}`));
    }
    await receiver.waitFor(() => receiver.at('/graceful').length >= 15 && receiver.open > 0, 'requests in flight', 45_000);
    worker.kill('SIGTERM');
    await exited(worker);
    worker = null;
    const succeeded = await a.t.db
      .selectFrom('webhook_deliveries')
      .select('event_id')
      .where('endpoint_id', '=', hook.id)
      .where('status', '=', 'succeeded')
      .execute();
    expect(receiver.open).toBe(0);
    expect(new Set(succeeded.map((d) => d.event_id))).toEqual(answered);
    await a.as('admin').patch(`/webhooks/${hook.id}`).send({ status: 'disabled' }).expect(200);
  });

  it('loses nothing: after SIGKILL and a restart every event reaches the receiver at least once', async () => {
    // Slow answers keep several requests open at any moment.
    receiver.on('/crash', () => ({ status: 200, delayMs: 100 }));
    const hook = (await a.as('admin').post('/webhooks').send({ url: receiver.url('/crash') }).expect(201)).body as { id: string };

    worker = spawnWorker(a);
    const events = [];
    for (let i = 0; i < 200; i++) {
      events.push(await append(a.t.db, `membership-ai-alliance.org-${i}`, 'MemberJoined', joined('ai-alliance', `org-${i}`)));
    }
    await receiver.waitFor(() => receiver.received.length >= 40 && receiver.open > 0, 'deliveries in flight', 45_000);
    const inFlight = receiver.open;
    worker.kill('SIGKILL');
    await exited(worker);
    expect(inFlight).toBeGreaterThan(0);
    const beforeRestart = receiver.ids('/crash').size;
    expect(beforeRestart).toBeLessThan(200);

    worker = spawnWorker(a);
    await receiver.waitFor(() => receiver.ids('/crash').size === 200, 'every event after the restart', 45_000);
    expect(receiver.ids('/crash')).toEqual(new Set(events.map((e) => e.id)));
    await fannedOut(a.t.db, events[events.length - 1]);
    await eventually(
      () =>
        a.t.db
          .selectFrom('webhook_deliveries')
          .select('status')
          .where('endpoint_id', '=', hook.id)
          .where('status', '!=', 'succeeded')
          .execute(),
      (rows) => rows.length === 0,
      'every delivery to be recorded as succeeded',
      30_000,
    );
  });
});
