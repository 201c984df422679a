import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendLoginPage, wantsLoginPage } from "./login-page.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * Also accept the token as `?token=`: for `EventSource`, which cannot set
     * headers, and for the dashboard page and its assets, which a browser
     * loads by plain URL.
     */
    queryToken?: boolean;
  }
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/**
 * Compares a presented token with the expected one in constant time. Both
 * are hashed first so the comparison does not leak the expected length.
 */
export function tokenMatches(presented: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digest(presented), expectedDigest);
}

function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === "string") {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return match?.[1] ?? "";
  }
  // A request Fastify refused before routing (a bad URL) has no route config.
  if (request.routeOptions?.config?.queryToken === true) {
    const q = (request.query as Record<string, unknown> | undefined)?.token;
    if (typeof q === "string") return q;
  }
  return undefined;
}

/**
 * The token check of a service: undefined when the request carries the
 * token, else the message of its 401. Also used for requests Fastify
 * refuses before any hook runs (a bad URL), so none is answered otherwise
 * without the token.
 */
export type TokenCheck = (request: FastifyRequest) => string | undefined;

/** Builds the {@link TokenCheck} of `token`. */
export function tokenCheck(token: string): TokenCheck {
  const expected = digest(token);
  return (request) => {
    const presented = presentedToken(request);
    if (presented !== undefined && tokenMatches(presented, expected)) return undefined;
    return presented === undefined ? "Missing bearer token" : "Invalid token";
  };
}

/** Answers a request that lacks the token: 401 with `WWW-Authenticate`. */
export function refuseUnauthorized(reply: FastifyReply, message: string): FastifyReply {
  return reply
    .code(401)
    .header("www-authenticate", 'Bearer realm="rapidai-jobs"')
    .send({ error: message });
}

/**
 * Guards every route with a bearer token. Runs in `onRequest`, before the
 * body is read, so an unauthenticated client cannot make the server parse
 * a large body. A browser opening `/` is still refused (401), with a
 * sign-in page rather than JSON.
 */
export function installAuth(app: FastifyInstance, check: TokenCheck): void {
  app.addHook("onRequest", async (request, reply) => {
    const refused = check(request);
    if (refused === undefined) return;
    if (wantsLoginPage(request)) sendLoginPage(reply, refused);
    else refuseUnauthorized(reply, refused);
    return reply;
  });
}
