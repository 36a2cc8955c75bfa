/**
 * Giving the page back to the browser between training steps.
 *
 * A training loop that never yields freezes the tab: no input, no paint. `setTimeout(0)` yields
 * but is clamped to 4 ms once timers nest, which on a fast GPU is longer than a step. A
 * MessageChannel message is a fresh task with no clamp, so input and rendering get their turn
 * at almost no cost; `scheduler.yield()` does the same where it exists.
 */

type SchedulerLike = { yield?: () => Promise<void> };

const channel = typeof MessageChannel !== 'undefined' ? new MessageChannel() : null;
const waiting: (() => void)[] = [];
if (channel) channel.port1.onmessage = () => waiting.shift()?.();

/**
 * Resolves in a new task, after the browser has had the chance to handle input and paint.
 *
 * @example
 * for (;;) { step(); await yieldToBrowser(); }
 */
export function yieldToBrowser(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: SchedulerLike }).scheduler;
  if (scheduler?.yield) return scheduler.yield();
  if (!channel) return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
}

/**
 * Resolves after the next animation frame. A hidden tab gets no frames, so there it falls back
 * to `yieldToBrowser` (a loop paced by frames keeps going in a background tab, and still
 * yields).
 *
 * @example
 * await nextFrame(); paint();
 */
export function nextFrame(): Promise<void> {
  if (typeof document !== 'undefined' && document.hidden) return yieldToBrowser();
  return new Promise((r) => requestAnimationFrame(() => r()));
}
