export interface LaneOptions {
  /** Attempts in flight to one endpoint. */
  perEndpoint: number;
  /** Jobs that may wait in this process, over all endpoints. */
  maxWaiting: number;
  /** Jobs that may wait in this process for one endpoint. */
  maxWaitingPerEndpoint: number;
  /** How long a first attempt waits for its predecessor before it goes anyway. */
  predecessorWaitMs?: number;
  /** Longest park of a retry that found its endpoint busy. */
  maxParkMs?: number;
  now?: () => number;
}

/**
 * A place in an endpoint's line. The task prepares (reads the database) without it, calls
 * `acquire()` right before the request and `release()` right after: only requests count
 * against the endpoint's concurrency, and they leave in the order the tasks entered.
 */
export interface Slot {
  acquire(): Promise<void>;
  release(): void;
}

export type LaneTask<T> = (slot: Slot) => Promise<T>;

export interface LaneHooks {
  /**
   * True when a predecessor needs no waiting for: attempted or settled already (by another
   * process, or before a restart). Asked when this process has not seen it start.
   */
  predecessorSettled(seq: bigint): Promise<boolean>;
  /** The endpoint's pending first attempts after `afterSeq`, in seq order, at most `limit`. */
  pendingFirsts(endpointId: string, afterSeq: bigint, limit: number): Promise<PulledDelivery[]>;
  /** Runs a first attempt taken from Postgres (it has no BullMQ job of its own). */
  runPulled(endpointId: string, delivery: PulledDelivery, slot: Slot): Promise<void>;
  onError(error: unknown): void;
}

export interface PulledDelivery {
  id: string;
  seq: bigint;
  /** Whatever the reader got with it, handed back to runPulled. */
  row?: unknown;
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
  /** A retry that found the endpoint busy: put the job back (BullMQ delayed) until then. */
  | { kind: 'park'; until: number }
  /**
   * A first attempt behind a backlog: the job may end; the lane takes the delivery from
   * Postgres, in seq order, when it has room.
   */
  | { kind: 'defer' }
  /** This process already holds the delivery (taken from Postgres); look again later. */
  | { kind: 'busy'; until: number };

class Ticket implements Slot {
  granted = false;
  released = false;
  wants = false;
  grantedAt = 0;
  counted = false;
  private grant!: () => void;
  readonly turn = new Promise<void>((resolve) => (this.grant = resolve));

  constructor(
    private readonly lane: Lane,
    private readonly lanes: { pump(lane: Lane): void; release(lane: Lane, ticket: Ticket): void },
  ) {}

  acquire(): Promise<void> {
    if (!this.wants && !this.released) {
      this.wants = true;
      this.lanes.pump(this.lane);
    }
    return this.turn;
  }

  release(): void {
    if (!this.released) {
      this.released = true;
      this.lanes.release(this.lane, this);
    }
  }

  open(now: number) {
    this.granted = true;
    this.grantedAt = now;
    this.grant();
  }
}

class Lane {
  /** Requests in flight. */
  inflight = 0;
  /** Tasks entered and not finished. */
  outstanding = 0;
  /** Entered tasks that have no request slot yet, in the order they entered. */
  readonly line: Ticket[] = [];
  /** Deliveries running or waiting here. */
  readonly held = new Set<string>();
  /** Jobs waiting for a predecessor, by the predecessor's seq. */
  readonly blocked = new Map<bigint, Array<() => void>>();
  blockedCount = 0;
  /** Backlog mode: first attempts after `frontier` come from Postgres, not from BullMQ. */
  pulling = false;
  frontier = -1n;
  pullInFlight = false;
  pullAgain = false;
  pullTimer: NodeJS.Timeout | null = null;
  avgMs = 50;

  constructor(readonly endpointId: string) {}

  idle(): boolean {
    return this.outstanding === 0 && this.blockedCount === 0 && !this.pulling && !this.pullTimer;
  }
}

const ENTERED_MEMORY = 100_000;

/**
 * Per-endpoint concurrency and log order inside one worker process.
 *
 * BullMQ hands jobs over roughly in queue order but knows nothing of endpoints. Each endpoint
 * gets a lane: at most `perEndpoint` attempts in flight, then a short FIFO of waiting jobs.
 *
 * First attempts start in log order. Each carries its predecessor's seq and enters only after
 * the predecessor entered (BullMQ may hand two jobs over swapped), was settled (Postgres says so)
 * or did not turn up in time. When an endpoint cannot keep up, its lane switches to backlog
 * mode: further first-attempt jobs end at once (`defer`) and the lane reads the endpoint's
 * pending first attempts from Postgres in seq order whenever it has room. A slow or dead
 * endpoint thus holds a few worker slots at most, never the queue, and its backlog waits in
 * Postgres rather than cycling through Redis. Retries are not ordered; one that finds its
 * endpoint busy is parked in BullMQ's delayed set.
 */
export class EndpointLanes {
  private readonly lanes = new Map<string, Lane>();
  /** The highest seq that entered, per endpoint; outlives idle lanes. */
  private readonly entered = new Map<string, bigint>();
  private totalWaiting = 0;
  private closing = false;
  private readonly now: () => number;
  private readonly predecessorWaitMs: number;
  private readonly maxParkMs: number;

  constructor(
    private readonly options: LaneOptions,
    private readonly hooks: LaneHooks,
  ) {
    this.now = options.now ?? Date.now;
    this.predecessorWaitMs = options.predecessorWaitMs ?? 2_000;
    this.maxParkMs = options.maxParkMs ?? 30_000;
  }

  /** Retries and other unordered jobs: decided at once. */
  submit<T>(endpointId: string, deliveryId: string, task: LaneTask<T>): Admission<T> {
    const lane = this.lane(endpointId);
    if (lane.held.has(deliveryId)) {
      return { kind: 'busy', until: this.now() + this.retryPause(lane) };
    }
    if (!this.canRun(lane) && !this.canWait(lane)) {
      this.dropIfIdle(lane);
      return { kind: 'park', until: this.now() + this.retryPause(lane) };
    }
    return { kind: 'run', done: this.enter(lane, deliveryId, task) };
  }

  /** A first attempt from the log: waits for its place in the endpoint's order. */
  async submitInOrder<T>(endpointId: string, deliveryId: string, order: LogOrder, task: LaneTask<T>): Promise<Admission<T>> {
    let predecessorDone = order.prevSeq === null;
    for (;;) {
      const lane = this.lane(endpointId);
      if (lane.held.has(deliveryId)) {
        return { kind: 'busy', until: this.now() + this.retryPause(lane) };
      }
      if (lane.pulling && order.seq > lane.frontier) {
        return this.defer(lane);
      }
      if (!this.canRun(lane) && !this.canWait(lane)) {
        return this.startPulling(lane);
      }
      predecessorDone ||= order.prevSeq! <= this.enteredUpTo(endpointId);
      if (!predecessorDone) {
        if (this.totalWaiting >= this.options.maxWaiting) {
          return this.startPulling(lane);
        }
        // Entered, settled or late: either way it is this one's turn now (or the lane has gone to backlog mode).
        await this.awaitPredecessor(lane, order.prevSeq!);
        predecessorDone = true;
        continue;
      }
      this.markEntered(lane, order.seq);
      return { kind: 'run', done: this.enter(lane, deliveryId, task) };
    }
  }

  /**
   * True when the endpoint's lane is in backlog mode and will read this first attempt from
   * Postgres itself: it needs no BullMQ job. Call only once the delivery is committed.
   */
  takeOver(endpointId: string, seq: bigint): boolean {
    const lane = this.lanes.get(endpointId);
    if (!lane?.pulling || seq <= lane.frontier) {
      return false;
    }
    if (lane.pullInFlight) {
      lane.pullAgain = true;
    } else {
      this.pull(lane);
    }
    return true;
  }

  /** Stops reading backlogs and waits (at most `timeoutMs`) for what is running to finish. */
  async drain(timeoutMs: number): Promise<void> {
    this.closing = true;
    for (const lane of this.lanes.values()) {
      if (lane.pullTimer) {
        clearTimeout(lane.pullTimer);
        lane.pullTimer = null;
      }
    }
    const deadline = this.now() + timeoutMs;
    while ([...this.lanes.values()].some((l) => l.outstanding > 0 || l.pullInFlight) && this.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stats() {
    let active = 0;
    let blocked = 0;
    let pulling = 0;
    for (const lane of this.lanes.values()) {
      active += lane.inflight;
      blocked += lane.blockedCount;
      pulling += lane.pulling ? 1 : 0;
    }
    return { lanes: this.lanes.size, active, waiting: this.totalWaiting, blocked, pulling };
  }

  private lane(endpointId: string): Lane {
    let lane = this.lanes.get(endpointId);
    if (!lane) {
      lane = new Lane(endpointId);
      this.lanes.set(endpointId, lane);
    }
    return lane;
  }

  private waitingIn(lane: Lane): number {
    return Math.max(0, lane.outstanding - this.options.perEndpoint);
  }

  private canRun(lane: Lane): boolean {
    return lane.outstanding < this.options.perEndpoint;
  }

  private canWait(lane: Lane): boolean {
    return this.waitingIn(lane) < this.options.maxWaitingPerEndpoint && this.totalWaiting < this.options.maxWaiting;
  }

  private retryPause(lane: Lane): number {
    const estimate = ((this.waitingIn(lane) + 1) / this.options.perEndpoint + 1) * lane.avgMs;
    return Math.round(Math.min(Math.max(estimate, 20), this.maxParkMs));
  }

  private enteredUpTo(endpointId: string): bigint {
    return this.entered.get(endpointId) ?? -1n;
  }

  private markEntered(lane: Lane, seq: bigint) {
    if (this.enteredUpTo(lane.endpointId) < seq) {
      if (this.entered.size >= ENTERED_MEMORY) {
        this.entered.clear();
      }
      this.entered.set(lane.endpointId, seq);
    }
    const waiters = lane.blocked.get(seq);
    if (waiters) {
      lane.blocked.delete(seq);
      waiters.forEach((w) => w());
    }
  }

  /** Resolves once the predecessor entered or is settled, or when time ran out. */
  private awaitPredecessor(lane: Lane, prevSeq: bigint): Promise<void> {
    lane.blockedCount++;
    this.totalWaiting++;
    return new Promise((resolve) => {
      let finished = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = () => {
        if (finished) {
          return;
        }
        finished = true;
        timers.forEach(clearTimeout);
        lane.blockedCount--;
        this.totalWaiting--;
        const list = lane.blocked.get(prevSeq);
        const mine = list?.indexOf(onWake) ?? -1;
        if (list && mine >= 0) {
          list.splice(mine, 1);
        }
        resolve();
      };
      const onWake = () => finish();
      lane.blocked.set(prevSeq, [...(lane.blocked.get(prevSeq) ?? []), onWake]);
      timers.push(setTimeout(finish, this.predecessorWaitMs));
      const ask = (delay: number) => {
        timers.push(
          setTimeout(() => {
            this.hooks.predecessorSettled(prevSeq).then(
              (settled) => (settled ? finish() : !finished && ask(100)),
              (error) => this.hooks.onError(error),
            );
          }, delay),
        );
      };
      ask(0);
    });
  }

  private startPulling(lane: Lane): Admission<never> {
    if (!lane.pulling) {
      lane.pulling = true;
      lane.frontier = this.enteredUpTo(lane.endpointId);
    }
    return this.defer(lane);
  }

  private defer(lane: Lane): Admission<never> {
    if (lane.pullInFlight) {
      // The read in flight may have missed this delivery: read once more after it.
      lane.pullAgain = true;
    }
    this.pull(lane);
    return { kind: 'defer' };
  }

  /** Backlog mode: takes the next pending first attempts from Postgres while there is room. */
  private pull(lane: Lane) {
    const room = this.options.perEndpoint + this.options.maxWaitingPerEndpoint - lane.outstanding;
    if (this.closing || !lane.pulling || lane.pullInFlight || room <= 0) {
      // A full lane reads again as its tasks finish.
      return;
    }
    if (this.totalWaiting >= this.options.maxWaiting) {
      // Other lanes hold the waiting room; nothing of this lane's will finish to wake it, so look again soon.
      if (!lane.pullTimer) {
        lane.pullTimer = setTimeout(() => {
          lane.pullTimer = null;
          this.pull(lane);
        }, 50);
      }
      return;
    }
    lane.pullInFlight = true;
    lane.pullAgain = false;
    let failed = false;
    void this.hooks
      .pendingFirsts(lane.endpointId, lane.frontier, room)
      .then(
        (rows) => {
          for (const row of rows) {
            lane.frontier = row.seq;
            if (!lane.held.has(row.id)) {
              this.markEntered(lane, row.seq);
              this.enter(lane, row.id, (slot) => this.hooks.runPulled(lane.endpointId, row, slot)).catch((error) =>
                this.hooks.onError(error),
              );
            }
          }
          if (rows.length < room && !lane.pullAgain) {
            // Postgres has nothing more for this endpoint: BullMQ drives it again.
            lane.pulling = false;
          }
        },
        (error) => {
          failed = true;
          this.hooks.onError(error);
        },
      )
      .finally(() => {
        lane.pullInFlight = false;
        if (lane.pulling && (failed || lane.pullAgain)) {
          setTimeout(() => this.pull(lane), failed ? 1_000 : 0);
        }
        this.dropIfIdle(lane);
      });
  }

  private enter<T>(lane: Lane, deliveryId: string, task: LaneTask<T>): Promise<T> {
    const ticket = new Ticket(lane, this);
    if (!this.canRun(lane)) {
      ticket.counted = true;
      this.totalWaiting++;
    }
    lane.outstanding++;
    lane.held.add(deliveryId);
    lane.line.push(ticket);
    const run = (async () => task(ticket))();
    return run.finally(() => {
      ticket.release();
      lane.held.delete(deliveryId);
      lane.outstanding--;
      this.pull(lane);
      this.dropIfIdle(lane);
    });
  }

  /** (For Ticket.) Grants request slots in line order; a task still preparing at the head holds the others back. */
  pump(lane: Lane) {
    while (lane.inflight < this.options.perEndpoint && lane.line.length > 0 && lane.line[0].wants) {
      const ticket = lane.line.shift()!;
      this.uncount(ticket);
      lane.inflight++;
      ticket.open(this.now());
    }
  }

  /** (For Ticket.) */
  release(lane: Lane, ticket: Ticket) {
    if (ticket.granted) {
      lane.inflight--;
      lane.avgMs = 0.8 * lane.avgMs + 0.2 * Math.max(1, this.now() - ticket.grantedAt);
    } else {
      const at = lane.line.indexOf(ticket);
      if (at >= 0) {
        lane.line.splice(at, 1);
      }
      this.uncount(ticket);
    }
    this.pump(lane);
  }

  private uncount(ticket: Ticket) {
    if (ticket.counted) {
      ticket.counted = false;
      this.totalWaiting--;
    }
  }

  private dropIfIdle(lane: Lane) {
    if (lane.idle() && this.lanes.get(lane.endpointId) === lane) {
      this.lanes.delete(lane.endpointId);
    }
  }
}
