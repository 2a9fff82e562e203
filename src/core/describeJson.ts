/**
 * A value from a user's JSON file, shown in an error message. JSON.stringify is not safe for
 * this: a hostile file's 100 000-deep nesting makes it overflow the stack (a RangeError instead
 * of the UserError being built), and a megabyte-long array would be repeated in full. This
 * writes the same text for small values, stops after a few levels and items, and caps the length.
 */

const MAX_DEPTH = 3;
const MAX_ITEMS = 8;

export function describeJson(value: unknown, maxChars = 100): string {
  const text = render(value, MAX_DEPTH, maxChars);
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

function render(value: unknown, depth: number, maxChars: number): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > maxChars ? value.slice(0, maxChars) : value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (depth === 0) return '[…]';
    const items = value.slice(0, MAX_ITEMS).map((v) => render(v, depth - 1, maxChars));
    return `[${items.join(',')}${value.length > MAX_ITEMS ? ',…' : ''}]`;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return '{}';
  if (depth === 0) return '{…}';
  const entries = keys
    .slice(0, MAX_ITEMS)
    .map((k) => `${JSON.stringify(k)}:${render((value as Record<string, unknown>)[k], depth - 1, maxChars)}`);
  return `{${entries.join(',')}${keys.length > MAX_ITEMS ? ',…' : ''}}`;
}
