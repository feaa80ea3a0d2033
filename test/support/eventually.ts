/**
 * Retries an assertion until it passes or the deadline comes. For the global log, which by
 * design holds back events behind any older transaction still open on the server (another
 * test file's, for instance): a stall is expected, a wrong answer is not.
 */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) {
        throw error;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
