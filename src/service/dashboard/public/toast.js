// Short notices in the corner: what a click did, or why it did not work.
import { byId, el } from "./dom.js";

const MAX_VISIBLE = 4;

/** Shows `message` for a few seconds; `kind` is "info", "success" or "error". */
export function toast(message, kind = "info") {
  const box = byId("toasts");
  const node = el(
    "div",
    { className: `toast ${kind}`, attrs: { role: kind === "error" ? "alert" : "status" } },
    message,
  );
  box.append(node);
  while (box.children.length > MAX_VISIBLE) box.firstElementChild?.remove();
  setTimeout(() => node.remove(), kind === "error" ? 6000 : 3500);
}
