/** BullMQ's sandboxed processor for the no-op job (run in a worker thread with `useWorkerThreads`). */
export default async function noop(): Promise<null> {
  return null;
}
