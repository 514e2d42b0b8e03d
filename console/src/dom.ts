/**
 * A tiny element builder. Text always goes through `textContent`, never `innerHTML`, so names and
 * error texts that come from X or the API cannot inject markup.
 */

/** Something `h` can append: nodes and strings; `null`/`false` are skipped (for conditionals). */
export type Child = Node | string | null | undefined | false;

/** Attributes and listeners of an element built by `h`. */
export type Props = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** Creates an element: `on<event>` props become listeners, booleans toggle attributes, the rest are attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = String(value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, ...children);
  return el;
}

/** Appends children, skipping empty ones. */
export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.textContent = '';
  append(parent, ...children);
}

/** Finds a required element by id; a missing one is a bug in index.html, said plainly. */
export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no element #${id}`);
  return el as T;
}
