/**
 * Runs a task every `intervalMs`, never two runs at once (a tick that finds one running is
 * skipped), and lets shutdown wait for the run in progress. The task handles its own errors.
 */
export class Periodic {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly task: (first: boolean) => Promise<void>) {}

  /** `now`: also run once at once, as the first run (`first` is true for it). */
  start(intervalMs: number, options: { now?: boolean } = {}): void {
    if (options.now) {
      void this.tick(true);
    }
    this.timer = setInterval(() => void this.tick(false), intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.running;
  }

  private async tick(first: boolean): Promise<void> {
    if (this.running) {
      return;
    }
    this.running = this.task(first).finally(() => {
      this.running = null;
    });
    await this.running;
  }
}
