// The service's event stream (server-sent events). EventSource reconnects by
// itself after a dropped connection; it gives up only when the server refuses
// the stream (e.g. 401), and then this module retries with a back-off.
import { tokenQuery } from "./token.js";

const EVENTS = ["status", "progress"];

/**
 * Opens `/events` and calls `handlers.status(data)` / `handlers.progress(data)`
 * for each event, `handlers.state("live" | "reconnecting" | "offline")` when the
 * connection changes, and `handlers.reopened()` after a reconnect (events may
 * have been missed: time to re-sync).
 */
export function connectEvents(handlers) {
  let source;
  let everOpen = false;
  let retryMs = 1000;
  let retryTimer;

  const open = () => {
    source = new EventSource(`/events${tokenQuery()}`);
    source.addEventListener("open", () => {
      retryMs = 1000;
      handlers.state("live");
      if (everOpen) handlers.reopened();
      everOpen = true;
    });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CONNECTING) {
        handlers.state("reconnecting");
        return;
      }
      // CLOSED: the browser will not retry by itself.
      handlers.state("offline");
      source.close();
      clearTimeout(retryTimer);
      retryTimer = setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 30_000);
    });
    for (const type of EVENTS) {
      source.addEventListener(type, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        if (data && typeof data === "object") handlers[type](data);
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
