/**
 * JSON.parse silently keeps the last of two equal keys. A safetensors header with a tensor named
 * twice is ambiguous (which bytes are the weight?), so the raw text is scanned for duplicates.
 * The text must already be valid JSON (JSON.parse succeeded); only the outer `maxDepth` levels of
 * objects are checked, deeper values are skipped without recursion.
 */

export interface DuplicateKey {
  path: string[]; // keys leading to the object that holds the duplicate
  key: string;
}

export function findDuplicateKey(text: string, maxDepth = 2): DuplicateKey | null {
  let i = 0;

  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };

  const readString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++; // closing quote
    return JSON.parse(text.slice(start, i)) as string; // decodes escapes: "a" and "\u0061" are one key
  };

  // Skips any value by bracket counting, so a deeply nested header cannot overflow the stack.
  const skipValue = () => {
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        readString();
        if (depth === 0) return;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) return; // end of the enclosing object
        depth--;
        if (depth === 0) {
          i++;
          return;
        }
      } else if (depth === 0 && (c === ',' || ' \t\n\r'.includes(c))) return;
      i++;
    }
  };

  const scanValue = (path: string[]): DuplicateKey | null => {
    skipSpace();
    if (text[i] !== '{' || path.length >= maxDepth) {
      skipValue();
      return null;
    }
    i++; // '{'
    const seen = new Set<string>();
    for (;;) {
      skipSpace();
      if (text[i] === '}') {
        i++;
        return null;
      }
      if (text[i] === ',') {
        i++;
        continue;
      }
      const key = readString();
      if (seen.has(key)) return { path, key };
      seen.add(key);
      skipSpace();
      i++; // ':'
      const found = scanValue([...path, key]);
      if (found) return found;
    }
  };

  return scanValue([]);
}
