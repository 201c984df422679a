/**
 * Warnings of worker processes as machine-readable lines: the process's
 * queue logs each warning as one JSON line on stdout, and the test reads
 * back their codes and fields (never the wording of the messages).
 */
import type { QueueLogger, WarningFields } from "rapidai/background";

/** The codes of an attempt whose claim was taken over (fencing at work). */
export const FENCING_CODES: readonly string[] = ["LEASE_LOST", "ANSWER_DROPPED", "END_REFUSED"];

/** What marks a warning line. */
const MARK = "rapidai-warning ";

export interface WarningLine extends Partial<WarningFields> {
  message: string;
}

/** A queue logger that prints each warning as one marked JSON line. */
export const warningLogger: QueueLogger = {
  warn(message, fields) {
    console.log(`${MARK}${JSON.stringify({ message, ...fields })}`);
  },
};

/** The warnings in a process's output, in order. */
export function warningLines(output: string): WarningLine[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith(MARK))
    .map((line) => JSON.parse(line.slice(MARK.length)) as WarningLine);
}

/** The lines of a process's output that are not warnings. */
export function otherLines(output: string): string[] {
  return output.split("\n").filter((line) => line.trim() !== "" && !line.startsWith(MARK));
}
