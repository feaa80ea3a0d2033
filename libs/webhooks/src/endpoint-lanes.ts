export interface LaneOptions {
  /** Attempts in flight to one endpoint. */
  perEndpoint: number;
  /** Jobs that may wait in this process, over all endpoints, before more are parked. */
  maxWaiting: number;
  /** Jobs that may wait in this process for one endpoint. */
  maxWaitingPerEndpoint: number;
  /** Longest park; a dead endpoint's backlog comes back at most this often. */
  maxParkMs?: number;
  /** A parked job not back this long after its time is taken for lost (Redis lost it). */
  parkedGraceMs?: number;
  /** How long a first attempt waits for its predecessor before it goes anyway. */
  predecessorWaitMs?: number;
  /**
   * True when the predecessor needs no waiting for: attempted or settled already (by another
   * process, or before a restart). Asked when this process has not seen it start.
   */
  predecessorSettled?: (seq: bigint) => Promise<boolean>;
  now?: () => number;
}

/** Where a first attempt stands in its endpoint's log order. */
export interface LogOrder {
  seq: bigint;
  /** The endpoint's previous delivery from the log, or null. */
  prevSeq: bigint | null;
}

export type Admission<T> =
  /** The task runs now or as soon as the endpoint has a free slot; `done` settles with it. */
  | { kind: 'run'; done: Promise<T> }
  /** Not now: put the job back (BullMQ delayed) until this time. */
  | { kind: 'park'; until: number };

interface Parked {
  /** Set for first attempts: their place in the log order. */
  seq: bigint | null;
  until: number;
}

/** Parked first attempts by seq; entries that left `parked` are skipped lazily. */
class SeqHeap {
  private readonly items: Array<{ seq: bigint; jobId: string }> = [];

  push(item: { seq: bigint; jobId: string }) {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (a[up].seq <= a[i].seq) {
        break;
      }
      [a[up], a[i]] = [a[i], a[up]];
      i = up;
    }
  }

  /** The smallest item for which `live` holds, dropping the others on the way. */
  peek(live: (item: { seq: bigint; jobId: string }) => boolean) {
    while (this.items.length > 0 && !live(this.items[0])) {
      this.pop();
    }
    return this.items[0];
  }

  private pop() {
    const a = this.items;
    const last = a.pop()!;
    if (a.length === 0) {
      return;
    }
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l].seq < a[m].seq) {
        m = l;
      }
      if (r < a.length && a[r].seq < a[m].seq) {
        m = r;
      }
      if (m === i) {
        break;
      }
      [a[m], a[i]] = [a[i], a[m]];
      i = m;
    }
  }
}

type WakeReason = 'entered' | 'parked';

class Lane {
  active = 0;
  readonly waiting: Array<() => void> = [];
  readonly parked = new Map<string, Parked>();
  readonly parkedFirsts = new SeqHeap();
  /** Jobs waiting for a predecessor, by the predecessor's seq. */
  readonly blocked = new Map<bigint, Array<(reason: WakeReason) => void>>();
  blockedCount = 0;
  lastParkUntil = 0;
  lastForget = 0;
  avgMs = 50;

  constructor(readonly endpointId: string) {}

  idle(): boolean {
    return this.active === 0 && this.waiting.length === 0 && this.parked.size === 0 && this.blockedCount === 0;
  }
}

const ENTERED_MEMORY = 100_000;

/**
 * Per-endpoint concurrency and ordering inside one worker process.
 *
 * BullMQ hands jobs over roughly in queue order but knows nothing of endpoints. Each endpoint
 * gets a lane: at most `perEndpoint` attempts in flight, then a bounded FIFO of waiting jobs. A
 * job that would wait beyond the bounds is parked (moved back to BullMQ's delayed set) instead
 * of holding a worker slot, so a slow or dead endpoint only ever holds a bounded share of the
 * slots and the other endpoints keep flowing.
 *
 * First attempts start in log order. Each carries its predecessor's seq; it enters its lane
 * only after the predecessor entered (BullMQ may hand two jobs over in swapped order), was
 * settled (Postgres says so) or did not turn up in time; and never while a first attempt with a
 * smaller seq is parked. Retries and redeliveries are not ordered.
 */
export class EndpointLanes {
  private readonly lanes = new Map<string, Lane>();
  /** The highest seq that entered, per endpoint; outlives idle lanes. */
  private readonly entered = new Map<string, bigint>();
  private totalWaiting = 0;
  private readonly now: () => number;
  private readonly maxParkMs: number;
  private readonly parkedGraceMs: number;
  private readonly predecessorWaitMs: number;

  constructor(private readonly options: LaneOptions) {
    this.now = options.now ?? Date.now;
    this.maxParkMs = options.maxParkMs ?? 30_000;
    this.parkedGraceMs = options.parkedGraceMs ?? 10_000;
    this.predecessorWaitMs = options.predecessorWaitMs ?? 2_000;
  }

  /** Retries and other unordered jobs: decided at once. */
  submit<T>(endpointId: string, jobId: string, task: () => Promise<T>): Admission<T> {
    const lane = this.lane(endpointId);
    this.forgetLost(lane);
    const returning = lane.parked.get(jobId);
    if (!this.hasRoom(lane)) {
      return { kind: 'park', until: this.park(lane, jobId, null, returning) };
    }
    lane.parked.delete(jobId);
    return { kind: 'run', done: this.enter(lane, task) };
  }

  /** A first attempt from the log: waits for its place in the endpoint's order. */
  async submitInOrder<T>(endpointId: string, jobId: string, order: LogOrder, task: () => Promise<T>): Promise<Admission<T>> {
    let predecessorDone = order.prevSeq === null;
    for (;;) {
      const lane = this.lane(endpointId);
      this.forgetLost(lane);
      const returning = lane.parked.get(jobId);
      const ahead = this.parkedAhead(lane, jobId, order.seq);
      if (ahead) {
        // Come back just after the earlier one is due, not at the end of the line.
        const until = Math.min(Math.max(ahead.until - this.now(), 0) + 20, 1_000) + this.now();
        return { kind: 'park', until: this.park(lane, jobId, order.seq, returning, until) };
      }
      predecessorDone ||= order.prevSeq! <= (this.entered.get(endpointId) ?? -1n);
      if (!predecessorDone) {
        if (this.totalWaiting >= this.options.maxWaiting) {
          return { kind: 'park', until: this.park(lane, jobId, order.seq, returning) };
        }
        // Whatever the outcome, look again: the predecessor may have been parked meanwhile.
        const outcome = await this.awaitPredecessor(lane, order.prevSeq!);
        predecessorDone = outcome !== 'parked';
        continue;
      }
      if (!this.hasRoom(lane)) {
        return { kind: 'park', until: this.park(lane, jobId, order.seq, returning) };
      }
      lane.parked.delete(jobId);
      this.markEntered(lane, order.seq);
      return { kind: 'run', done: this.enter(lane, task) };
    }
  }

  stats() {
    let active = 0;
    let parked = 0;
    let blocked = 0;
    for (const lane of this.lanes.values()) {
      active += lane.active;
      parked += lane.parked.size;
      blocked += lane.blockedCount;
    }
    return { lanes: this.lanes.size, active, waiting: this.totalWaiting, parked, blocked };
  }

  private lane(endpointId: string): Lane {
    let lane = this.lanes.get(endpointId);
    if (!lane) {
      lane = new Lane(endpointId);
      this.lanes.set(endpointId, lane);
    }
    return lane;
  }

  private hasRoom(lane: Lane): boolean {
    if (lane.active < this.options.perEndpoint && lane.waiting.length === 0) {
      return true;
    }
    return lane.waiting.length < this.options.maxWaitingPerEndpoint && this.totalWaiting < this.options.maxWaiting;
  }

  /** A parked first attempt that must start before `seq`. */
  private parkedAhead(lane: Lane, jobId: string, seq: bigint): Parked | undefined {
    const first = lane.parkedFirsts.peek((item) => lane.parked.get(item.jobId)?.seq === item.seq);
    return first && first.jobId !== jobId && first.seq < seq ? lane.parked.get(first.jobId) : undefined;
  }

  private markEntered(lane: Lane, seq: bigint) {
    if ((this.entered.get(lane.endpointId) ?? -1n) < seq) {
      if (this.entered.size >= ENTERED_MEMORY) {
        this.entered.clear();
      }
      this.entered.set(lane.endpointId, seq);
    }
    this.wake(lane, seq, 'entered');
  }

  private wake(lane: Lane, seq: bigint, reason: WakeReason) {
    const waiters = lane.blocked.get(seq);
    if (waiters) {
      lane.blocked.delete(seq);
      waiters.forEach((w) => w(reason));
    }
  }

  /** Until the predecessor enters or is parked here, Postgres says it is settled, or time runs out. */
  private awaitPredecessor(lane: Lane, prevSeq: bigint): Promise<'entered' | 'parked' | 'settled' | 'timeout'> {
    lane.blockedCount++;
    this.totalWaiting++;
    return new Promise((resolve) => {
      let finished = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (outcome: 'entered' | 'parked' | 'settled' | 'timeout') => {
        if (finished) {
          return;
        }
        finished = true;
        timers.forEach(clearTimeout);
        lane.blockedCount--;
        this.totalWaiting--;
        const list = lane.blocked.get(prevSeq);
        const mine = list?.indexOf(finish) ?? -1;
        if (list && mine >= 0) {
          list.splice(mine, 1);
        }
        resolve(outcome);
      };
      lane.blocked.set(prevSeq, [...(lane.blocked.get(prevSeq) ?? []), finish]);
      timers.push(setTimeout(() => finish('timeout'), this.predecessorWaitMs));
      const ask = (delay: number) => {
        timers.push(
          setTimeout(() => {
            void (this.options.predecessorSettled?.(prevSeq) ?? Promise.resolve(false)).then(
              (settled) => (settled ? finish('settled') : !finished && ask(100)),
              () => undefined,
            );
          }, delay),
        );
      };
      ask(0);
    });
  }

  private enter<T>(lane: Lane, task: () => Promise<T>): Promise<T> {
    if (lane.active < this.options.perEndpoint && lane.waiting.length === 0) {
      return this.start(lane, task);
    }
    this.totalWaiting++;
    return new Promise<T>((resolve, reject) => {
      lane.waiting.push(() => {
        this.totalWaiting--;
        this.start(lane, task).then(resolve, reject);
      });
    });
  }

  private start<T>(lane: Lane, task: () => Promise<T>): Promise<T> {
    lane.active++;
    const began = this.now();
    const run = (async () => task())();
    return run.finally(() => {
      lane.active--;
      lane.avgMs = 0.8 * lane.avgMs + 0.2 * Math.max(1, this.now() - began);
      while (lane.active < this.options.perEndpoint && lane.waiting.length > 0) {
        lane.waiting.shift()!();
      }
      this.dropIfIdle(lane);
    });
  }

  /**
   * Park times only grow within a lane, so parked jobs come back in the order they left. A job
   * that comes back and has to go again keeps its entry (and so its place).
   */
  private park(lane: Lane, jobId: string, seq: bigint | null, existing: Parked | undefined, at?: number): number {
    const now = this.now();
    let until = at;
    if (until === undefined) {
      const ahead = lane.waiting.length + lane.parked.size;
      const estimate = ((ahead + 1) / this.options.perEndpoint + 1) * lane.avgMs;
      until = Math.max(now + Math.min(Math.max(estimate, 5), this.maxParkMs), lane.lastParkUntil + 1);
      lane.lastParkUntil = until;
    }
    if (existing) {
      existing.until = until;
    } else {
      lane.parked.set(jobId, { seq, until });
      if (seq !== null) {
        lane.parkedFirsts.push({ seq, jobId });
      }
    }
    if (seq !== null) {
      this.wake(lane, seq, 'parked');
    }
    return until;
  }

  /** Once a second at most: the scan is over every parked job of the lane. */
  private forgetLost(lane: Lane) {
    const now = this.now();
    if (lane.parked.size === 0 || now - lane.lastForget < 1_000) {
      return;
    }
    lane.lastForget = now;
    for (const [id, p] of lane.parked) {
      if (p.until + this.parkedGraceMs < now) {
        lane.parked.delete(id);
      }
    }
  }

  private dropIfIdle(lane: Lane) {
    if (lane.idle() && this.lanes.get(lane.endpointId) === lane) {
      this.lanes.delete(lane.endpointId);
    }
  }
}
