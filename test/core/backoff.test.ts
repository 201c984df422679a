import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, JobError } from "rapidai/background";
// Internal modules: the delay arithmetic and the retry decision are unit-tested directly.
import { type Backoff, backoffDelay, DEFAULT_BACKOFF, parseBackoff } from "../../src/backoff.js";
import { decide } from "../../src/retry-policy.js";

const fixed = (delayMs: number, extra: Partial<Backoff> = {}): Backoff =>
  parseBackoff({ type: "fixed", delayMs, ...extra });

describe("backoffDelay", () => {
  it("defaults to exponential 2 s, 4 s, 8 s as the seed's guide says", () => {
    assert.deepEqual(DEFAULT_BACKOFF, {
      type: "exponential",
      delayMs: 2000,
      maxDelayMs: 3_600_000,
      jitter: 0,
    });
    assert.equal(parseBackoff(undefined), DEFAULT_BACKOFF);
    assert.deepEqual(
      [1, 2, 3, 4].map((retry) => backoffDelay(DEFAULT_BACKOFF, retry)),
      [2000, 4000, 8000, 16000],
    );
  });

  it("waits the same delay before every retry with a fixed backoff", () => {
    const b = fixed(250);
    assert.deepEqual(
      [1, 2, 3, 10].map((r) => backoffDelay(b, r)),
      [250, 250, 250, 250],
    );
  });

  it("reads a bare number as a fixed delay in ms", () => {
    const b = parseBackoff(75);
    assert.equal(b.type, "fixed");
    assert.equal(b.delayMs, 75);
    assert.equal(backoffDelay(b, 5), 75);
  });

  it("doubles an exponential delay per retry and never goes past maxDelayMs", () => {
    const b = parseBackoff({ type: "exponential", delayMs: 100, maxDelayMs: 1000 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 50, 1000].map((r) => backoffDelay(b, r)),
      [100, 200, 400, 800, 1000, 1000, 1000, 1000],
    );
    const uncapped = parseBackoff({ type: "exponential", delayMs: 10 });
    assert.equal(backoffDelay(uncapped, 1000), DEFAULT_BACKOFF.maxDelayMs);
  });

  it("caps a fixed delay at maxDelayMs too", () => {
    assert.equal(backoffDelay(fixed(500, { maxDelayMs: 300 }), 1), 300);
  });

  it("takes up to the jitter fraction off the delay, never adding to it", () => {
    const b = parseBackoff({ type: "exponential", delayMs: 1000, maxDelayMs: 3000, jitter: 0.2 });
    assert.equal(
      backoffDelay(b, 1, () => 0),
      1000,
    );
    assert.equal(
      backoffDelay(b, 1, () => 1),
      800,
    );
    assert.equal(
      backoffDelay(b, 1, () => 0.5),
      900,
    );
    assert.equal(
      backoffDelay(b, 5, () => 0),
      3000,
    );
    assert.equal(
      backoffDelay(b, 5, () => 1),
      2400,
    );
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(b, 2);
      assert.ok(d >= 1600 && d <= 2000, `delay ${d}`);
      assert.ok(Number.isInteger(d));
    }
  });

  it("gives zero for a zero delay whatever the retry number", () => {
    const b = parseBackoff({ type: "exponential", delayMs: 0 });
    assert.deepEqual(
      [1, 2, 1000].map((r) => backoffDelay(b, r)),
      [0, 0, 0],
    );
  });
});

describe("parseBackoff", () => {
  const rejects = (value: unknown, option: string) =>
    assert.throws(
      () => parseBackoff(value),
      (e: unknown) =>
        e instanceof JobError && e.code === ErrorCode.INVALID_OPTION && e.message.includes(option),
      `accepted ${JSON.stringify(value)}`,
    );

  it("rejects an unknown backoff type, naming the option", () => {
    rejects({ type: "linear" }, "backoff.type");
  });

  it("rejects a negative or fractional delay, naming the option", () => {
    rejects(-1, "backoff");
    rejects({ delayMs: -5 }, "backoff.delayMs");
    rejects({ delayMs: 1.5 }, "backoff.delayMs");
    rejects({ maxDelayMs: -1 }, "backoff.maxDelayMs");
  });

  it("rejects jitter outside 0 to 1", () => {
    rejects({ jitter: -0.1 }, "backoff.jitter");
    rejects({ jitter: 1.5 }, "backoff.jitter");
    rejects({ jitter: "some" }, "backoff.jitter");
  });

  it("rejects unknown keys and values that are not objects", () => {
    rejects({ delay: 100 }, "backoff.delay");
    rejects("fixed", "backoff");
    rejects(null, "backoff");
  });
});

describe("the retry decision", () => {
  const b = fixed(10);
  const error = { name: "Error", message: "boom" };

  it("fails after the first attempt when maxRetries is 0", () => {
    assert.deepEqual(decide({ kind: "error", error, permanent: false }, 1, 0, b), {
      to: "failed",
      error,
    });
  });

  it("retries with the backoff delay while retries are left, then fails", () => {
    assert.deepEqual(decide({ kind: "error", error, permanent: false }, 1, 2, b), {
      to: "pending",
      error,
      delayMs: 10,
    });
    assert.equal(decide({ kind: "error", error, permanent: false }, 2, 2, b).to, "pending");
    assert.equal(decide({ kind: "error", error, permanent: false }, 3, 2, b).to, "failed");
  });

  it("passes the retry number to the backoff: the first retry waits delayMs", () => {
    const exp = parseBackoff({ type: "exponential", delayMs: 100 });
    const delays = [1, 2, 3].map((attempts) => {
      const d = decide({ kind: "error", error, permanent: false }, attempts, 5, exp);
      return d.to === "pending" ? d.delayMs : -1;
    });
    assert.deepEqual(delays, [100, 200, 400]);
  });

  it("never retries a permanent error", () => {
    assert.equal(decide({ kind: "error", error, permanent: true }, 1, 5, b).to, "failed");
  });

  it("counts a timeout as a failure coded ERR_JOB_TIMEOUT, retried while retries are left", () => {
    const retry = decide({ kind: "timeout" }, 1, 1, b, 250);
    assert.equal(retry.to, "pending");
    const final = decide({ kind: "timeout" }, 2, 1, b, 250);
    assert.equal(final.to, "failed");
    assert.equal(final.to === "failed" && final.error.code, ErrorCode.TIMEOUT);
    assert.match(final.to === "failed" ? final.error.message : "", /250 ms/);
  });

  it("treats a crashed thread as a failed attempt, and a cancel as final", () => {
    assert.equal(decide({ kind: "crashed", error }, 1, 1, b).to, "pending");
    assert.equal(decide({ kind: "crashed", error }, 2, 1, b).to, "failed");
    assert.deepEqual(decide({ kind: "cancelled" }, 1, 5, b), { to: "cancelled" });
    assert.deepEqual(decide({ kind: "ok", value: 3 }, 1, 0, b), { to: "completed", result: 3 });
  });
});
