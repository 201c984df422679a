// The access token: from `?token=` in the page's URL (the inline loader in
// index.html stores it) or from this tab's sessionStorage. It lives only as
// long as the tab, and is never written anywhere else.

const KEY = "rapidai.token";

/** The token this tab uses, or "" when the service has none. */
export function getToken() {
  const fromUrl = new URLSearchParams(location.search).get("token");
  if (fromUrl) return fromUrl;
  try {
    return sessionStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

/** `?token=…` for URLs the browser fetches by itself (EventSource, scripts), or "". */
export function tokenQuery() {
  const token = getToken();
  return token ? `?token=${encodeURIComponent(token)}` : "";
}

/** Headers that carry the token on a fetch. */
export function authHeaders() {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Asks for a token (the dialog's form reloads the page with `?token=`). */
export function askForToken(reason) {
  const dialog = document.getElementById("token-dialog");
  if (!dialog || dialog.open) return;
  const text = document.getElementById("token-reason");
  if (text && reason) text.textContent = reason;
  dialog.showModal();
}
