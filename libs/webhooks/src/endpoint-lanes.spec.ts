import { Admission, EndpointLanes, LaneHooks, LaneOptions, Slot } from './endpoint-lanes';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A task that holds its endpoint slot while `body` runs, as a delivery attempt does for its request. */
const request =
  <T>(body: () => Promise<T>) =>
  async (slot: Slot) => {
    await slot.acquire();
    try {
      return await body();
    } finally {
      slot.release();
    }
  };
const never = request(() => new Promise<void>(() => undefined));
const instant = request(async () => undefined);
const done = <T>(a: Admission<T>) => (a.kind === 'run' ? a.done : Promise.reject(new Error(`not run: ${a.kind}`)));
const tick = () => new Promise((r) => setImmediate(r));

/** Postgres as the lanes see it: pending first attempts per endpoint, and what ran from there. */
function fakeStore(pending: Array<{ id: string; seq: bigint }> = []) {
  const ran: string[] = [];
  const gates = new Map<string, Promise<void>>();
  const hooks: LaneHooks = {
    predecessorSettled: async () => false,
    pendingFirsts: async (_endpoint, after, limit) => pending.filter((p) => p.seq > after).slice(0, limit),
    runPulled: async (_endpoint, { id }, slot) => {
      await slot.acquire();
      ran.push(id);
      await gates.get(id);
      slot.release();
      pending.splice(
        pending.findIndex((p) => p.id === id),
        1,
      );
    },
    onError: (error) => {
      throw error;
    },
  };
  return { hooks, ran, pending, gates };
}

describe('EndpointLanes', () => {
  const lanes = (options: Partial<LaneOptions> = {}, hooks: Partial<LaneHooks> = {}) =>
    new EndpointLanes(
      { perEndpoint: 1, maxWaiting: 100, maxWaitingPerEndpoint: 100, ...options },
      { ...fakeStore().hooks, ...hooks },
    );

  it('runs at most perEndpoint tasks of one endpoint at a time, in submission order', async () => {
    const l = lanes({ perEndpoint: 2 });
    const started: number[] = [];
    const gates = Array.from({ length: 6 }, deferred);
    const runs = gates.map((gate, i) =>
      done(
        l.submit(
          'e1',
          `j${i}`,
          request(async () => {
            started.push(i);
            await gate.promise;
          }),
        ),
      ),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1].resolve();
    await runs[1];
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.resolve());
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(l.stats()).toEqual({ lanes: 0, active: 0, waiting: 0, blocked: 0, pulling: 0 });
  });

  it('parks a retry that finds its endpoint full; other endpoints still run', () => {
    const l = lanes({ maxWaiting: 2, maxWaitingPerEndpoint: 2 });
    expect(l.submit('slow', 'a', never).kind).toBe('run');
    expect(l.submit('slow', 'b', never).kind).toBe('run');
    expect(l.submit('slow', 'c', never).kind).toBe('run');
    expect(l.submit('slow', 'd', never).kind).toBe('park');
    expect(l.submit('fast', 'x', never).kind).toBe('run');
    expect(l.submit('slow', 'a', never).kind).toBe('busy');
  });

  it('holds a first attempt that arrives before its predecessor until the predecessor starts', async () => {
    const l = lanes();
    const started: string[] = [];
    const task = (name: string) =>
      request(async () => {
        started.push(name);
      });
    const second = l.submitInOrder('e', 'j2', { seq: 2n, prevSeq: 1n }, task('j2'));
    await tick();
    expect(started).toEqual([]);
    await done(await l.submitInOrder('e', 'j1', { seq: 1n, prevSeq: null }, task('j1')));
    await done(await second);
    expect(started).toEqual(['j1', 'j2']);
  });

  it('does not wait for a predecessor that Postgres says is settled (after a restart)', async () => {
    const asked: bigint[] = [];
    const l = lanes({}, { predecessorSettled: async (seq) => (asked.push(seq), true) });
    await done(await l.submitInOrder('e', 'j9', { seq: 9n, prevSeq: 8n }, instant));
    expect(asked).toEqual([8n]);
    // Once seq 9 entered, 10 follows without asking.
    await done(await l.submitInOrder('e', 'j10', { seq: 10n, prevSeq: 9n }, instant));
    expect(asked).toEqual([8n]);
  });

  it('goes anyway when the predecessor never turns up', async () => {
    const l = lanes({ predecessorWaitMs: 30 });
    expect((await l.submitInOrder('e', 'j5', { seq: 5n, prevSeq: 4n }, instant)).kind).toBe('run');
  });

  it('behind a backlog, defers first attempts and takes them from Postgres in seq order', async () => {
    const store = fakeStore([3n, 4n, 5n, 6n].map((seq) => ({ id: `d${seq}`, seq })));
    const l = new EndpointLanes({ perEndpoint: 1, maxWaiting: 10, maxWaitingPerEndpoint: 1 }, store.hooks);
    const gate = deferred();
    const first = await l.submitInOrder('e', 'd1', { seq: 1n, prevSeq: null }, request(() => gate.promise));
    const second = await l.submitInOrder('e', 'd2', { seq: 2n, prevSeq: 1n }, instant);
    expect([first.kind, second.kind]).toEqual(['run', 'run']);
    // The lane is full: later first attempts end their jobs; Postgres holds them.
    expect((await l.submitInOrder('e', 'd4', { seq: 4n, prevSeq: 3n }, instant)).kind).toBe('defer');
    expect((await l.submitInOrder('e', 'd3', { seq: 3n, prevSeq: 2n }, instant)).kind).toBe('defer');
    expect(l.stats().pulling).toBe(1);
    gate.resolve();
    await done(first);
    await done(second);
    for (let i = 0; i < 20 && store.ran.length < 4; i++) {
      await tick();
    }
    expect(store.ran).toEqual(['d3', 'd4', 'd5', 'd6']);
    for (let i = 0; i < 20 && l.stats().pulling > 0; i++) {
      await tick();
    }
    // Drained: BullMQ drives the endpoint again.
    expect(l.stats().pulling).toBe(0);
    expect((await l.submitInOrder('e', 'd7', { seq: 7n, prevSeq: 6n }, instant)).kind).toBe('run');
  });

  it('a dead endpoint holds its own slots only', async () => {
    const store = fakeStore(Array.from({ length: 50 }, (_, i) => ({ id: `d${i + 10}`, seq: BigInt(i + 10) })));
    store.gates.set('d10', new Promise(() => undefined));
    const l = new EndpointLanes({ perEndpoint: 1, maxWaiting: 4, maxWaitingPerEndpoint: 1 }, store.hooks);
    const kinds = [];
    for (let i = 0; i < 50; i++) {
      kinds.push((await l.submitInOrder('dead', `d${i + 10}`, { seq: BigInt(i + 10), prevSeq: i ? BigInt(i + 9) : null }, never)).kind);
    }
    expect(kinds.slice(0, 2)).toEqual(['run', 'run']);
    expect(new Set(kinds.slice(2))).toEqual(new Set(['defer']));
    expect(l.stats()).toMatchObject({ active: 1, waiting: 1 });
    expect(l.submit('alive', 'r', instant).kind).toBe('run');
  });

  it('counts requests, not preparation, against the endpoint, and keeps the line order', async () => {
    const l = lanes({ perEndpoint: 1 });
    const order: string[] = [];
    const prepared = deferred();
    // j1 prepares slowly (a database read); j2 is ready at once but must not overtake it.
    const j1 = l.submit('e', 'j1', async (slot) => {
      await prepared.promise;
      await slot.acquire();
      order.push('j1');
      slot.release();
      order.push('j1 recorded');
    });
    const j2 = l.submit('e', 'j2', request(async () => order.push('j2')));
    await tick();
    expect(order).toEqual([]);
    prepared.resolve();
    await Promise.all([done(j1), done(j2)]);
    expect(order.filter((x) => x !== 'j1 recorded')).toEqual(['j1', 'j2']);
    // A task that ends without a request gives its place up.
    await done(l.submit('e', 'skip', async () => 'nothing to send'));
    await done(l.submit('e', 'after', instant));
  });
});
