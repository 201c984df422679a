// The service's event stream (server-sent events). EventSource reconnects by
// itself after a dropped connection; it gives up only when the server refuses
// the stream (e.g. 401), and then this module retries with a back-off.
//
// A queue running thousands of jobs a second sends tens of thousands of
// events a second: more than a browser tab can take in and still answer
// clicks (Chromium parses the stream on the page's main thread), and more
// than the service will buffer for it (it drops a client that falls behind).
// Past BUSY_EVENTS_PER_SECOND, or when the stream drops in the middle of a
// burst, the stream is closed for BUSY_PAUSE_MS and the page polls instead
// (the "busy" state), then tries the stream again.
import { tokenQuery } from "./token.js";

// `paused` and `resumed` are the queue's own events (a pause made anywhere).
const EVENTS = ["status", "progress", "paused", "resumed"];
const BUSY_EVENTS_PER_SECOND = 3000;
const BUSY_PAUSE_MS = 10_000;
/** A drop after this many events within the last second counts as busy, not as a network hiccup. */
const BUSY_ON_DROP = 200;

/**
 * Opens `/events` and calls `handlers.status(data)` / `handlers.progress(data)`
 * for each event, `handlers.state("live" | "reconnecting" | "offline" | "busy")`
 * when the connection changes, and `handlers.reopened()` after a reconnect
 * (events may have been missed: time to re-sync).
 */
export function connectEvents(handlers) {
  let source;
  let everOpen = false;
  let retryMs = 1000;
  let retryTimer;
  let windowStart = 0;
  let windowCount = 0;
  let lastWindowCount = 0;

  const reopenLater = (ms) => {
    source.close();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(open, ms);
  };

  const goBusy = () => {
    windowCount = 0;
    lastWindowCount = 0;
    handlers.state("busy");
    reopenLater(BUSY_PAUSE_MS);
  };

  /** Events in the last second or so. */
  const recent = () => {
    const now = performance.now();
    if (now - windowStart >= 1000) {
      lastWindowCount = now - windowStart < 2000 ? windowCount : 0;
      windowStart = now;
      windowCount = 0;
    }
    return windowCount + lastWindowCount;
  };

  /** Counts one event; true when the stream was just closed for being too busy. */
  const tooBusy = () => {
    recent();
    if (++windowCount <= BUSY_EVENTS_PER_SECOND) return false;
    goBusy();
    return true;
  };

  const open = () => {
    const es = new EventSource(`/events${tokenQuery()}`);
    source = es;
    es.addEventListener("open", () => {
      retryMs = 1000;
      handlers.state("live");
      if (everOpen) handlers.reopened();
      everOpen = true;
    });
    es.addEventListener("error", () => {
      if (es !== source) return;
      if (es.readyState === EventSource.CONNECTING) {
        // Dropped in a burst: the service found this tab too slow to follow.
        if (recent() >= BUSY_ON_DROP) goBusy();
        else handlers.state("reconnecting");
        return;
      }
      // CLOSED: the browser will not retry by itself.
      handlers.state("offline");
      reopenLater(retryMs);
      retryMs = Math.min(retryMs * 2, 30_000);
    });
    for (const type of EVENTS) {
      es.addEventListener(type, (event) => {
        // Events already parsed from the same chunk still arrive after close().
        if (es !== source || es.readyState === EventSource.CLOSED || tooBusy()) return;
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        if (data && typeof data === "object") handlers[type]?.(data);
      });
    }
  };
  open();
  return {
    close() {
      clearTimeout(retryTimer);
      source?.close();
    },
  };
}
