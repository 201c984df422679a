// Building DOM without innerHTML: every string becomes a text node or a
// property, so job data (ids, arguments, errors) can never become markup.

/**
 * `el("td", { className: "num", title: "x" }, "text", child)`. Props are set
 * as properties, except `dataset` (an object), `attrs` (attributes) and
 * `on` (event listeners).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "attrs") for (const [a, v] of Object.entries(value)) node.setAttribute(a, v);
    else if (key === "on")
      for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    else node[key] = value;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces all children of `node`. */
export function setChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/** `document.getElementById` that fails loudly when the page and the code disagree. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`dashboard: #${id} is missing`);
  return node;
}

/**
 * Coalesces calls to `fn` into one per animation frame: events may arrive by
 * the thousand per second, the screen needs at most one update per frame.
 */
export function perFrame(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  };
}

/**
 * Runs `fn` at most once per `ms`, the last call always honoured (a burst of
 * triggers yields one call now and one after the burst).
 */
export function throttle(fn, ms) {
  let last = 0;
  let timer;
  return () => {
    if (timer !== undefined) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      last = Date.now();
      fn();
    }, wait);
  };
}

/** Runs `fn` once `ms` passed without another call. */
export function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}
