/**
 * The one rule for what a failed job's record says of its error, applied
 * where a job's error leaves its thread (src/errors.ts): `error` is the
 * message alone (the name when the message is empty), the code is kept
 * apart, and the stack, headed by the name, is bounded.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode } from "rapidai/background";
import {
  boundStack,
  errorMessage,
  JobError,
  jobError,
  STACK_LIMITS,
  serializeError,
  UnrecoverableError,
} from "../../src/errors.js";

const frames = (stack: string) => stack.split("\n").filter((l) => /^\s+at\s/.test(l)).length;

describe("error records", () => {
  it("stores the message alone, whatever the error's class", () => {
    for (const error of [
      new Error("kaboom"),
      new TypeError("kaboom"),
      jobError(ErrorCode.INVALID_OPTION, "kaboom"),
      new UnrecoverableError("kaboom"),
      { name: "Custom", message: "kaboom" },
    ]) {
      assert.equal(errorMessage(serializeError(error)), "kaboom", String(error));
    }
    assert.equal(errorMessage(serializeError("kaboom")), "kaboom");
  });

  it("stores the name when the message is empty", () => {
    assert.equal(errorMessage(serializeError(new RangeError())), "RangeError");
    assert.equal(errorMessage(serializeError(new Error(""))), "Error");
  });

  it("keeps the name in the stack's first line and the code apart", () => {
    const e = serializeError(jobError(ErrorCode.INVALID_OPTION, "bad n"));
    assert.ok(e.stack?.startsWith("JobError: bad n\n"));
    assert.equal(e.code, ErrorCode.INVALID_OPTION);
    assert.ok(
      serializeError(new UnrecoverableError("no")).stack?.startsWith("UnrecoverableError: no\n"),
    );
    assert.ok(
      serializeError(new JobError(ErrorCode.TIMEOUT, "t")).stack?.startsWith("JobError: t"),
    );
  });

  it("leaves a stack within the limits as it is", () => {
    const stack = new Error("short").stack!;
    assert.equal(boundStack(stack), stack);
  });

  it("cuts a stack at its frame limit, saying how many lines were left out", () => {
    const lines = [
      "Error: deep",
      ...Array.from({ length: 80 }, (_, i) => `    at f${i} (x.js:${i}:1)`),
    ];
    const cut = boundStack(lines.join("\n"));
    assert.equal(frames(cut), STACK_LIMITS.frames);
    assert.ok(cut.startsWith("Error: deep\n    at f0 "));
    assert.ok(cut.endsWith(`\n    … (${80 - STACK_LIMITS.frames} more lines cut)`));
  });

  it("cuts a stack at its size limit, inside a first line longer than the limit", () => {
    const long = boundStack(`Error: ${"m".repeat(20_000)}\n    at f (x.js:1:1)`);
    assert.ok(long.length <= STACK_LIMITS.chars, `${long.length}`);
    assert.ok(long.startsWith("Error: mmm"));
    assert.ok(long.endsWith("(2 more lines cut)") || long.endsWith("(1 more lines cut)"));
    const wide = Array.from({ length: 40 }, (_, i) => `    at ${"g".repeat(400)}${i} (x.js:1:1)`);
    const cut = boundStack(["Error: wide", ...wide].join("\n"));
    assert.ok(cut.length <= STACK_LIMITS.chars, `${cut.length}`);
    assert.ok(frames(cut) < 40 && frames(cut) > 10);
  });
});
