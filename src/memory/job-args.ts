import { assertPayloadSize, prepareThreadArgs } from "../codec.js";
import type { StoredArgs } from "../engine/store.js";
import { ArgsEncoding } from "../executor/protocol.js";
import type { MovedArgs } from "../executor/thread-args.js";
import type { MemoryJob } from "./memory-job.js";

/**
 * The arguments of in-memory jobs: serialized bytes on the job, and for
 * the few jobs with moved buffers, those buffers kept off the job record.
 */
export class JobArgs {
  readonly #moved = new WeakMap<MemoryJob, MovedArgs>();
  readonly #maxBytes: number;

  constructor(maxPayloadBytes: number) {
    this.#maxBytes = maxPayloadBytes;
  }

  encode(args: unknown[]): StoredArgs {
    if (args.length === 0) return { bytes: undefined, encoding: ArgsEncoding.NONE };
    // Moved buffers are detached from the caller here and kept as they are
    // (not serialized), to travel to the thread in its transfer list.
    const prepared = prepareThreadArgs(args);
    const size = (prepared.bytes?.byteLength ?? 0) + movedBytes(prepared.moved);
    assertPayloadSize(size, this.#maxBytes);
    return prepared;
  }

  keep(job: MemoryJob, moved: MovedArgs | undefined): void {
    if (moved !== undefined) this.#moved.set(job, moved);
  }

  /** How the job's bytes are encoded, and its moved buffers if any. */
  of(job: MemoryJob): { encoding: ArgsEncoding; moved?: MovedArgs } {
    if (job.args === undefined) return { encoding: ArgsEncoding.NONE };
    const moved = this.#moved.get(job);
    return moved === undefined
      ? { encoding: ArgsEncoding.V8 }
      : { encoding: ArgsEncoding.V8_MOVED, moved };
  }
}

function movedBytes(moved: MovedArgs | undefined): number {
  if (moved === undefined) return 0;
  let n = 0;
  for (const b of moved.buffers) n += b.byteLength;
  return n;
}
