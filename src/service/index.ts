/**
 * rapidai/service: the HTTP job service, for embedding in your own process.
 * A separate entry from rapidai/background, so task modules (which worker
 * threads import) never load the web server.
 */
export { createService, type ServiceOptions } from "./create-service.js";
export { type JsonValue, toJsonSafe } from "./json-safe.js";
