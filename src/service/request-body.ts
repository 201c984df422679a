import { ErrorCode, jobError } from "../errors.js";

/**
 * A request body that must be a JSON object with only the known fields
 * (`example` shows its shape in the error). Names the first unknown field,
 * so a typo is an error, not an option silently ignored.
 */
export function objectBody(
  body: unknown,
  keys: readonly string[],
  example: string,
): Record<string, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw jobError(ErrorCode.INVALID_OPTION, `the body must be a JSON object like ${example}`);
  }
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) {
      throw jobError(
        ErrorCode.INVALID_OPTION,
        `unknown body field \`${key}\`: expected ${keys.join(", ")}`,
      );
    }
  }
  return o;
}
