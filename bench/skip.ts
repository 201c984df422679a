/** Thrown by a case that cannot run here (no redis-server, a backend not in this build). */
export class CaseSkipped extends Error {
  override readonly name = "CaseSkipped";
}
