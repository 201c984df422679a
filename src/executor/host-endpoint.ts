import type { MessagePort } from "node:worker_threads";
import type { Endpoint } from "comlink";

/**
 * Adapts the main thread's end of a worker's channel for comlink, letting
 * plain messages (progress) bypass it: `raw` returns true for a message it
 * handled, and comlink never sees that message, so it sends no reply.
 */
export function hostEndpoint(
  port: MessagePort,
  raw: (data: unknown) => boolean,
): Endpoint & { deliver(data: unknown): void } {
  const listeners = new Set<EventListenerOrEventListenerObject>();
  // Also called directly with messages read by receiveMessageOnPort.
  const deliver = (data: unknown) => {
    if (raw(data)) return;
    const event = { data } as MessageEvent;
    for (const l of listeners) {
      if (typeof l === "function") l(event);
      else l.handleEvent(event);
    }
  };
  port.on("message", deliver);
  return {
    deliver,
    postMessage: (message: unknown, transfer?: Transferable[]) =>
      port.postMessage(message, transfer as never),
    addEventListener: (_type: string, listener: EventListenerOrEventListenerObject) => {
      listeners.add(listener);
    },
    removeEventListener: (_type: string, listener: EventListenerOrEventListenerObject) => {
      listeners.delete(listener);
    },
  };
}
