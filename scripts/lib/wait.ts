/**
 * Polls `check` (every 20 ms) until it returns true; fails after `timeoutMs` saying what it waited for. Bounded in
 * time. `what` may be a function, read at the timeout, so the message can show the last state seen.
 */
export async function waitFor(what: string | (() => string), check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
