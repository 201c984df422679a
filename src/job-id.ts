import { randomFillSync } from "node:crypto";

/**
 * Job ids made when the caller gives none: 21 characters of [0-9A-Za-z],
 * about 125 random bits (a v4 UUID has 122), from the system's CSPRNG.
 *
 * Why not `randomUUID()`: a job id is stored three times for each pending
 * job in Redis (the job's key, the list it waits in, the status index) and
 * once in memory; 21 characters instead of 36 is about 60 bytes less per
 * pending job in Redis (docs/benchmarks.md). Why not base64url: an id that
 * starts with `-` reads as an option on a command line, and `_`/`-` make ids
 * harder to select with a double click.
 */
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LENGTH = 21;
/** Bytes at or above this are skipped, so that every character is equally likely (248 = 4 × 62). */
const UNBIASED_BELOW = 248;

// Random bytes are drawn in blocks: one system call per many ids.
const pool = Buffer.allocUnsafe(4096);
let at = pool.length;

function randomByte(): number {
  if (at === pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  return pool[at++]!;
}

/** A new random job id, such as `4fTq0ZbX9kLmN2pQrS7uV`. */
export function newJobId(): string {
  let id = "";
  while (id.length < LENGTH) {
    const b = randomByte();
    if (b < UNBIASED_BELOW) id += ALPHABET[b % 62];
  }
  return id;
}
