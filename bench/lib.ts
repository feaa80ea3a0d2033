/**
 * What a benchmark suite gets and gives back. A suite is a file in bench/suites/ exporting
 * `run(ctx: BenchContext): Promise<Result[]>`; bench/run.ts finds it by file name.
 */
export interface BenchContext {
  /** A fresh, migrated database private to this suite (dropped and recreated before it runs). */
  databaseUrl: string;
  /** Length of each time-boxed measurement, in seconds (BENCH_SECONDS, default 5). */
  seconds: number;
  /** Progress to stderr; stdout carries only the JSON result. */
  log(message: string): void;
}

export interface Result {
  /** What was measured, e.g. "append 1 event (exact version), 8 connections". */
  name: string;
  value: number;
  /** ops/s, events/s, ms ... */
  unit: string;
  /** The raw-SQL figure this one is compared with, when there is one. */
  baseline?: { name: string; value: number };
  /** value / baseline.value */
  ratio?: number;
  /** The goal in words, e.g. ">= 60% of raw", and whether this run met it. */
  target?: string;
  met?: boolean;
  detail?: Record<string, unknown>;
}

export interface SuiteModule {
  run(ctx: BenchContext): Promise<Result[]>;
}

export interface TimedRun {
  /** Units of work (events, operations) per second over the whole box. */
  rate: number;
  units: number;
  seconds: number;
  operations: number;
}

/**
 * Runs `workers` loops concurrently for `seconds`; each call of `op` does some work and says
 * how many units it did. Every loop finishes its current call before the box closes.
 */
export async function timeBox(
  workers: number,
  seconds: number,
  op: (worker: number, iteration: number) => Promise<number>,
): Promise<TimedRun> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let units = 0;
  let operations = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const done = await op(w, i);
        units += done;
        operations++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { rate: units / elapsed, units, seconds: elapsed, operations };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A result compared with a raw baseline, with a ratio target (e.g. 0.6 for ">= 60% of raw"). */
export function compared(
  name: string,
  value: number,
  unit: string,
  baseline: { name: string; value: number },
  minRatio: number,
  detail?: Record<string, unknown>,
): Result {
  const ratio = value / baseline.value;
  return {
    name,
    value: round(value, 0),
    unit,
    baseline: { name: baseline.name, value: round(baseline.value, 0) },
    ratio: round(ratio, 3),
    target: `>= ${Math.round(minRatio * 100)}% of raw`,
    met: ratio >= minRatio,
    ...(detail ? { detail } : {}),
  };
}
