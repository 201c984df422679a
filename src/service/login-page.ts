import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * True for a browser opening the dashboard's page: `GET /` that accepts
 * HTML. Such a request without the token gets the sign-in page below
 * instead of the JSON 401 every API client gets.
 */
export function wantsLoginPage(request: FastifyRequest): boolean {
  if (request.method !== "GET") return false;
  if (request.url.split("?")[0] !== "/") return false;
  return (request.headers.accept ?? "").includes("text/html");
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

/**
 * The sign-in page: self-contained (its style inline), since without the
 * token none of the dashboard's assets load. The form reloads `/` with
 * `?token=`, which the dashboard keeps in the tab's sessionStorage; a tab
 * that already holds a token goes back to the dashboard with it at once.
 */
export function loginPage(reason: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>Sign in · rapidai jobs</title>
<script>
  (() => {
    // Already signed in in this tab: back to the page with the token it holds.
    if (new URLSearchParams(location.search).has("token")) return;
    let token = null;
    try { token = sessionStorage.getItem("rapidai.token"); } catch {}
    if (token) location.replace("/?token=" + encodeURIComponent(token));
  })();
</script>
<style>
  :root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 14px;
    color: #111827; background: #f5f6f8; color-scheme: light dark; }
  @media (prefers-color-scheme: dark) { :root { color: #e6edf3; background: #0d1117; }
    .box { background: #161b22; border-color: #2b323c; } input { background: #0d1117; color: inherit; border-color: #2b323c; } }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 16px; box-sizing: border-box; }
  .box { width: min(380px, 100%); box-sizing: border-box; background: #fff; border: 1px solid #e4e7ec;
    border-radius: 10px; padding: 24px; box-shadow: 0 1px 3px rgba(16, 24, 40, 0.08); }
  h1 { font-size: 18px; margin: 0 0 4px; } h1 span { color: #6b7280; font-weight: 400; }
  p { margin: 0 0 16px; color: #6b7280; }
  label { display: block; font-weight: 500; margin-bottom: 6px; }
  input { width: 100%; box-sizing: border-box; font: inherit; padding: 8px 10px; border: 1px solid #d0d5dd; border-radius: 8px; }
  button { margin-top: 14px; width: 100%; font: inherit; font-weight: 600; padding: 9px; border: 0; border-radius: 8px;
    background: #4f46e5; color: #fff; cursor: pointer; }
</style>
</head>
<body>
<main class="box">
  <h1>rapidai <span>jobs</span></h1>
  <p id="login-reason">${escapeHtml(reason)}</p>
  <form id="login-form" method="get" action="/">
    <label for="login-token">Access token</label>
    <input id="login-token" type="password" name="token" required autocomplete="current-password" autofocus
      placeholder="The service's RAPIDAI_TOKEN">
    <button type="submit" id="login-submit">Open dashboard</button>
  </form>
</main>
</body>
</html>
`;
}

/** Answers a browser's `GET /` that lacks the right token: 401 with the sign-in page. */
export function sendLoginPage(reply: FastifyReply, refused: string): FastifyReply {
  const reason =
    refused === "Invalid token"
      ? "The service did not accept this token. Enter the right one."
      : "This service needs an access token.";
  return reply
    .code(401)
    .header("www-authenticate", 'Bearer realm="rapidai-jobs"')
    .header("cache-control", "no-store")
    .header("referrer-policy", "no-referrer")
    .header("x-frame-options", "DENY")
    .type("text/html; charset=utf-8")
    .send(loginPage(reason));
}
