/**
 * The flags several commands share, each read from the same variable
 * everywhere, so `RAPIDAI_PREFIX` or `RAPIDAI_TOKEN` set once serves every
 * command. Each command says what the flag means for it.
 */
import type { OptionSpec } from "./args.js";

export const HELP_OPTION: OptionSpec = {
  name: "help",
  short: "h",
  type: "boolean",
  description: "Show this help.",
};

export function redisOption(description: string, defaultText?: string): OptionSpec {
  return {
    name: "redis",
    type: "string",
    env: "RAPIDAI_REDIS_URL",
    valueName: "URL",
    ...(defaultText === undefined ? {} : { defaultText }),
    description,
  };
}

export function prefixOption(description: string): OptionSpec {
  return {
    name: "prefix",
    type: "string",
    env: "RAPIDAI_PREFIX",
    valueName: "prefix",
    defaultText: '"rapidai:jobs:"',
    description,
  };
}

export function tokenOption(description: string): OptionSpec {
  return { name: "token", type: "string", env: "RAPIDAI_TOKEN", valueName: "token", description };
}

/** `--url` and `--token`: ask a running `rapidai-jobs serve` instead of Redis. */
export function serviceOptions(urlDescription: string): OptionSpec[] {
  return [
    {
      name: "url",
      type: "string",
      env: "RAPIDAI_URL",
      valueName: "URL",
      description: urlDescription,
    },
    tokenOption("Bearer token of the service (with --url). Prefer the environment variable."),
  ];
}

export function jsonOption(description: string): OptionSpec {
  return { name: "json", type: "boolean", description };
}
