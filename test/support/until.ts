/**
 * Resolves with `check`'s value once it is neither undefined nor false,
 * checking every `everyMs`: how a test waits for a condition (a remote
 * store's changes and events arrive a little later) instead of sleeping a
 * fixed time. Fails naming `what` after `ms`.
 */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 10_000,
  everyMs = 10,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
