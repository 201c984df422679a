import { parseArgs } from "node:util";
import { ErrorCode, JobError, jobError } from "../errors.js";

/** One command-line option, with the environment variable that can set it instead. */
export interface OptionSpec {
  /** The long flag, without `--`. */
  name: string;
  type: "string" | "boolean";
  /** May be given more than once (values collect in order). */
  multiple?: boolean;
  short?: string;
  /** Environment variable read when the flag is absent (comma-separated for `multiple`). */
  env?: string;
  /** Placeholder shown in help, e.g. `URL`. */
  valueName?: string;
  /** Default shown in help (the command applies it). */
  defaultText?: string;
  description: string;
}

/** Parsed options: a flag wins over its environment variable. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Where each value came from, for error messages: `--port` or `PORT`. */
  source: Record<string, string>;
}

/** A usage error: the command line (or an environment variable) is wrong. Exit code 2. */
export function usageError(message: string): JobError {
  return jobError(ErrorCode.INVALID_OPTION, message);
}

/** True for an error `main` reports as a usage error (exit code 2). */
export function isUsageError(error: unknown): error is JobError {
  return error instanceof JobError && error.code === ErrorCode.INVALID_OPTION;
}

/**
 * Parses `argv` strictly with `util.parseArgs`: an unknown flag, a missing
 * value or a stray argument is a usage error naming it. Absent flags fall
 * back to their environment variable.
 */
export function parseCommandArgs(
  argv: string[],
  specs: readonly OptionSpec[],
  options: { positionals?: boolean; env?: NodeJS.ProcessEnv } = {},
): ParsedArgs {
  const env = options.env ?? process.env;
  const config: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> =
    {};
  for (const s of specs) {
    config[s.name] = {
      type: s.type,
      ...(s.multiple ? { multiple: true } : {}),
      ...(s.short ? { short: s.short } : {}),
    };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: config,
      strict: true,
      allowPositionals: options.positionals ?? false,
    });
  } catch (error) {
    throw usageError(cleanParseMessage((error as Error).message));
  }
  const values: ParsedArgs["values"] = {};
  const source: Record<string, string> = {};
  for (const s of specs) {
    const v = parsed.values[s.name] as string | boolean | string[] | undefined;
    if (v !== undefined) {
      values[s.name] = v;
      source[s.name] = `--${s.name}`;
      continue;
    }
    const fromEnv = s.env === undefined ? undefined : env[s.env];
    if (fromEnv === undefined || fromEnv === "") continue;
    source[s.name] = s.env!;
    if (s.type === "boolean") values[s.name] = !/^(0|false|no|off)$/i.test(fromEnv);
    else if (s.multiple)
      values[s.name] = fromEnv
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
    else values[s.name] = fromEnv;
  }
  return { values, positionals: parsed.positionals, source };
}

// util.parseArgs messages end with advice about `--` that does not apply here.
function cleanParseMessage(message: string): string {
  return message
    .replace(/\. To specify a positional argument starting with a '-'.*$/s, "")
    .replace(/\s+$/, "");
}

/** An integer option from `min` to `max`, or a usage error naming where it came from. */
export function intValue(
  parsed: ParsedArgs,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = parsed.values[name];
  if (raw === undefined) return fallback;
  const n = typeof raw === "string" && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw usageError(
      `${parsed.source[name]} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`,
    );
  }
  return n;
}

/** A string option, or undefined. */
export function stringValue(parsed: ParsedArgs, name: string): string | undefined {
  const raw = parsed.values[name];
  return typeof raw === "string" ? raw : undefined;
}

/** A repeatable string option (possibly from a comma-separated environment variable). */
export function listValue(parsed: ParsedArgs, name: string): string[] {
  const raw = parsed.values[name];
  return Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
}

/** The help text of a command: usage, description, then one block per option. */
export function formatHelp(
  usage: string,
  description: string,
  specs: readonly OptionSpec[],
): string {
  const lines = [`Usage: ${usage}`, "", description, "", "Options:"];
  for (const s of specs) {
    const flag = `${s.short ? `-${s.short}, ` : "    "}--${s.name}${s.valueName ? ` <${s.valueName}>` : ""}`;
    lines.push(`  ${flag}`);
    const notes: string[] = [];
    if (s.env) notes.push(`env ${s.env}`);
    if (s.defaultText) notes.push(`default ${s.defaultText}`);
    lines.push(`        ${s.description}${notes.length ? ` (${notes.join("; ")})` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
