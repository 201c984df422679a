// Task bodies of the soak run (scripts/soak.mjs). Worker threads import this
// module to find a task by name, so it only defines tasks.
import { background } from "rapidai/background";

/** Does nothing. */
export const noop = background({ name: "soak.noop", maxRetries: 0 })(function noop() {});

/** Always throws: a failed job with its error stored. */
export const fail = background({ name: "soak.fail", maxRetries: 0 })(function fail(n) {
  throw new Error(`soak failure ${n}`);
});
