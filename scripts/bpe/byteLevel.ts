/**
 * GPT-2's byte-level view of text: every UTF-8 byte is one printable character (so a BPE
 * vocabulary of 256 base symbols covers any text with no unknown token), and the text is first
 * split into words by GPT-2's regex so merges never cross a word boundary. These must match
 * HF tokenizers' ByteLevel pre-tokenizer (use_regex: true, add_prefix_space: false) exactly.
 */

/** GPT-2's pre-tokenizer pattern: contractions, letters, digits, other symbols, whitespace. */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Byte → character. Printable Latin-1 bytes map to themselves; the other 68 (control bytes,
 * space, 0x7F–0xA0, 0xAD) map to U+0100 onwards in byte order, so e.g. a space is "Ġ".
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const chars: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) chars.push(String.fromCharCode(printable(b) ? b : 256 + shifted++));
  return chars;
})();

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/** Splits text into GPT-2 words, each written in byte-level characters. */
export function preTokenize(text: string): string[] {
  return (text.match(GPT2_PATTERN) ?? []).map(toByteLevel);
}

export function toByteLevel(word: string): string {
  let out = '';
  for (const b of utf8.encode(word)) out += BYTE_TO_CHAR[b];
  return out;
}

/** Inverse of toByteLevel over a concatenation of tokens. */
export function fromByteLevel(symbols: string): string {
  const bytes = Uint8Array.from(symbols, (c) => {
    const b = CHAR_TO_BYTE.get(c);
    if (b === undefined) throw new Error(`not a byte-level character: ${JSON.stringify(c)}`);
    return b;
  });
  return utf8Decoder.decode(bytes);
}
