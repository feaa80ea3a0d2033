/**
 * Nest closes the application on SIGTERM/SIGINT (enableShutdownHooks): Fastify stops accepting
 * and waits for requests in flight, BullMQ workers finish or hand back their jobs. A request or
 * job that never ends would keep the process alive for ever; after `timeoutMs` it exits anyway
 * (code 1), and whatever was not finished is redone: jobs by BullMQ's stalled-job check and the
 * sweep, writes by the client's retry (nothing is acknowledged before it commits).
 */
export function boundShutdown(timeoutMs: number, log: (message: string) => void = (m) => console.error(m)): void {
  const arm = (signal: NodeJS.Signals) => {
    setTimeout(() => {
      log(`${signal}: still shutting down after ${timeoutMs} ms (SHUTDOWN_TIMEOUT_MS); exiting`);
      process.exit(1);
    }, timeoutMs).unref();
  };
  process.once('SIGTERM', arm);
  process.once('SIGINT', arm);
}
