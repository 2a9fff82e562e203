// User content is never evaluated as code. The only interpreter of user content is the chat
// template (tokenizer_config.json), rendered by @huggingface/jinja, which walks its own AST and
// cannot reach JavaScript. The studio's own sources contain no eval, no Function constructor and
// no raw-HTML sinks; dataset text that looks like a template is rendered as text.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/core/errors';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { tinyTokenizerConfig, tinyTokenizerJson } from '../src/core/model/testing/tinyTokenizer';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Code execution and raw-HTML sinks (word-bounded, so `evaluate(` or `FunctionValue` do not count). */
const SINKS: [string, RegExp][] = [
  ['eval', /(^|[^\w$.])eval\s*\(/],
  ['Function constructor', /\bnew\s+Function\s*\(|(^|[^\w$.])Function\s*\(\s*['"`]/],
  ['innerHTML / outerHTML', /\.(inner|outer)HTML\s*=/],
  ['dangerouslySetInnerHTML', /dangerouslySetInnerHTML/],
  ['insertAdjacentHTML', /insertAdjacentHTML/],
  ['document.write', /document\.write/],
  ['string timer', /set(Timeout|Interval)\s*\(\s*['"`]/],
];

function sourceFiles(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path, pattern);
    return pattern.test(name) ? [path] : [];
  });
}

function sinkHits(files: string[]): string[] {
  const hits: string[] = [];
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const [what, re] of SINKS)
          if (re.test(line)) hits.push(`${file.slice(root.length)}:${i + 1}: ${what}: ${line.trim()}`);
      });
  }
  return hits;
}

const chatTokenizer = (template?: string) =>
  loadTokenizer(tinyTokenizerJson(), {
    ...tinyTokenizerConfig({ chat: true }),
    ...(template ? { chat_template: template } : {}),
  });

describe('no evaluation of user content', () => {
  it('src/, workers/ and index.html contain no eval, Function constructor or raw-HTML sink', () => {
    const files = [
      ...sourceFiles(join(root, 'src'), /\.(ts|tsx)$/),
      ...sourceFiles(join(root, 'workers'), /\.(ts|tsx)$/),
      join(root, 'index.html'),
    ].filter((f) => !f.endsWith('.test.ts'));
    const hits = sinkHits(files);
    console.log(`scanned ${files.length} files for ${SINKS.map(([w]) => w).join(', ')}: ${hits.length} hits`);
    expect(hits).toEqual([]);
  });

  it('the scan would see a sink (so its silence means something)', () => {
    const probe = [
      'const x = eval("1");',
      'el.innerHTML = text;',
      'new Function("return 1")',
      '<div dangerouslySetInnerHTML={{ __html: s }} />',
    ];
    expect(probe.filter((line) => SINKS.some(([, re]) => re.test(line)))).toHaveLength(probe.length);
    expect(
      ['this.evaluate(x)', 'new FunctionValue(() => 1)', 'model.eval()'].filter((l) =>
        SINKS.some(([, re]) => re.test(l)),
      ),
    ).toEqual([]);
  });

  it('@huggingface/jinja, the template renderer, is an interpreter without eval or Function', () => {
    const dist = join(root, 'node_modules/@huggingface/jinja/dist');
    const files = sourceFiles(dist, /\.(js|cjs)$/);
    expect(files.length).toBeGreaterThan(0);
    expect(sinkHits(files)).toEqual([]);
  });

  it('dataset text that looks like a template is rendered as text, not evaluated', () => {
    const tok = chatTokenizer();
    const content = "{{ 7 * 7 }}{% if true %}yes{% endif %}{{ ''.constructor }}";
    const text = tok.applyChatTemplate([
      { role: 'user', content },
      { role: 'assistant', content: '{{ eos_token }}' },
    ]);
    expect(text).toContain(content);
    expect(text).toContain('{{ eos_token }}');
    expect(text).not.toContain('49');
  });

  it('a hostile chat template cannot reach JavaScript: refused as a bad file, globals untouched', () => {
    const g = globalThis as { __templatePwned?: boolean };
    g.__templatePwned = false;
    const attacks = [
      "{{ ''.constructor.constructor('globalThis.__templatePwned = true')() }}",
      "{{ messages.constructor.constructor('globalThis.__templatePwned = true')() }}",
      "{{ messages[0].__proto__.constructor.constructor('globalThis.__templatePwned = true')() }}",
      "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    ];
    for (const template of attacks) {
      let outcome: string;
      try {
        outcome = `rendered ${JSON.stringify(chatTokenizer(template).applyChatTemplate([{ role: 'user', content: 'hi' }]))}`;
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        outcome = `refused: ${(e as UserError).message}`;
      }
      console.log(`${template} → ${outcome.slice(0, 140)}`);
    }
    expect(g.__templatePwned).toBe(false);
    delete g.__templatePwned;
  });
});
