/**
 * The model card (README.md), rendered from training.json so that every number in it is the one
 * the run measured. Re-render with `npm run pretrain -- --card-only --out DIR`.
 */
import { modelConfig } from './recipe';
import { MONITOR_WINDOWS, type StyleShiftReport, type TrainingReport } from './report';
import { SAMPLING } from './samples';

/** The held-out curve recorded during training (runs before it was recorded have none). */
function monitorLine(r: TrainingReport): string {
  const points = r.training.monitor ?? [];
  if (points.length === 0) return '';
  const curve = points.map((p) => `${p.step}: ${p.loss.toFixed(3)}`).join(', ');
  return (
    `\nLoss on the first ${MONITOR_WINDOWS} held-out windows during training (watched, never used to stop or choose): ${curve}. ` +
    `Where it flattens while the training loss (${r.training.finalTrainLoss.toFixed(3)} at the end) keeps falling, more steps on the same text would overfit.\n`
  );
}

/** The quality floor of the embedded model: held-out loss at least this fraction below the bigram's. */
export const QUALITY_FLOOR = 0.2;

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const f = (x: number, digits = 4): string => x.toFixed(digits);

function minutes(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(1)} min`;
}

/** A continuation shown in a blockquote: the prompt in bold, newlines kept. */
function quote(prompt: string, text: string): string {
  return `**${prompt}**${text}`
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}

function styleShiftSection(s: StyleShiftReport | null, modelDir: string): string {
  if (!s) {
    return (
      '## Fine-tuning check (style shift)\n\nNot measured yet: run `npx tsx scripts/pretrain/styleShift.ts ' +
      `--model ${modelDir}\`.\n`
    );
  }
  const change = 100 * (1 - s.after / s.before);
  return [
    '## Fine-tuning check (style shift)',
    '',
    `${s.method} for ${s.steps} steps on \`${s.dataset}\` (State of the Union addresses) changes that corpus's ` +
      'validation loss (`public/datasets/sotu-style/validation.txt`, whole addresses never trained on):',
    '',
    '| | validation loss (nats/token) |',
    '|---|---|',
    `| before (this model) | ${f(s.before)} |`,
    `| after ${s.steps} S²FT steps | ${f(s.after)} (${change >= 0 ? '−' : '+'}${Math.abs(change).toFixed(1)}%) |`,
    '',
    'Reproduce (the same commands `scripts/pretrain/styleShift.ts` ran):',
    '',
    '```sh',
    s.command,
    '```',
    '',
  ].join('\n');
}

export function renderModelCard(r: TrainingReport): string {
  const c = modelConfig(r.recipe);
  const modelDir = `public/models/${r.recipe.name}`;
  const evalCommand = `npm run cli -- eval --model ${modelDir} --data ${r.heldOut.file} --seq-len ${r.heldOut.seqLen} --json`;
  const passes = r.improvementOverBigram >= QUALITY_FLOOR;
  const samples = r.samples
    .map((s) => `${s.mode === 'greedy' ? 'Greedy' : 'Sampled'}:\n\n${quote(s.prompt, s.text)}\n`)
    .join('\n');
  const percent = Math.abs(100 * r.improvementOverBigram).toFixed(1);
  const relation = r.improvementOverBigram >= 0 ? `${percent}% below` : `${percent}% above`;
  const mb = (r.weightsBytes / 2 ** 20).toFixed(1);
  return `# ${r.recipe.name}

A small LLaMA-architecture language model trained from scratch on Herman Melville's *Moby Dick*,
with its own byte-level BPE tokenizer. It is the model the studio opens with, and the model the
tests, benchmarks and S²FT experiments run on. It is a toy: it writes Melville-flavoured English
words and phrases, not sensible text, and knows nothing beyond one novel.

## Model

| | |
|---|---|
| architecture | \`LlamaForCausalLM\` (\`model_type\` llama): RMSNorm, RoPE (θ ${c.ropeTheta}), SwiGLU MLP, grouped-query attention |
| layers | ${c.numLayers} |
| hidden size | ${c.hiddenSize} |
| attention heads / key-value heads | ${c.numHeads} / ${c.numKvHeads} (head dim ${c.headDim}) |
| MLP intermediate size | ${c.intermediateSize} |
| vocabulary | ${c.vocabSize} (byte-level BPE; \`<|endoftext|>\` = id 0 is BOS, EOS and padding) |
| word embeddings | tied with the output layer |
| parameters | ${n(r.parameters)} |
| weights | \`model.safetensors\`, float32, ${mb} MiB |
| context | trained on windows of ${r.recipe.seqLen} tokens; \`max_position_embeddings\` ${c.maxPositionEmbeddings} |

## Data

- Source: ${r.data.source}.
- Training: ${r.data.trainChapters} chapters (front matter included), ${n(r.data.trainChars)} characters = ${n(r.data.trainTokens)} tokens.
- Held out (never trained on, tokenizer included): every 10th chapter, chapters ${r.data.heldOutChapters.join(', ')},
  shipped as \`${r.heldOut.file}\` (${n(r.heldOut.chars)} characters).
- Tokenizer: byte-level BPE (GPT-2 pre-tokenization) with ${c.vocabSize} tokens, trained by the script on the training
  chapters only; \`tokenizer.json\` loads in @huggingface/tokenizers and \`transformers\`.

## Training

| | |
|---|---|
| steps | ${n(r.training.steps)} updates of ${r.recipe.batchSize} windows × ${r.recipe.seqLen} tokens |
| tokens seen | ${n(r.training.tokensSeen)} (${r.training.epochs.toFixed(2)} epochs) |
| optimizer | AdamW (β 0.9 / 0.95, ε 1e-8, weight decay ${r.recipe.weightDecay}), gradient clipping at norm 1.0 |
| learning rate | ${r.recipe.lr} peak, ${r.recipe.warmup} warm-up steps, cosine decay to 0 |
| initialisation | normal(0, 0.02), seed ${r.seed} |
| final training loss | ${f(r.training.finalTrainLoss)} (mean of the last 5% of the updates) |
| time | ${minutes(r.training.seconds)}, ${n(r.training.tokensPerSec)} tokens/s |
| hardware | ${r.training.hardware}; tfjs \`${r.training.backend}\` backend |

## Evaluation

Mean next-token cross-entropy (nats per token) over the held-out chapters, every token after the
first predicted once, in windows of ${r.heldOut.seqLen} tokens:

| model | held-out loss | perplexity |
|---|---|---|
| **${r.recipe.name}** | **${f(r.heldOut.loss)}** | ${f(r.heldOut.perplexity, 1)} |
| interpolated bigram on the same tokens (λ ${r.bigram.lambda}, tuned on the held-out text itself) | ${f(r.bigram.loss)} | ${f(Math.exp(r.bigram.loss), 1)} |

The model's held-out loss is ${relation} the bigram's
(${n(r.heldOut.tokens)} predicted tokens); the quality floor asks for at least ${100 * QUALITY_FLOOR}%:
${passes ? 'met' : '**not met**'}. Reproduce the number with

\`\`\`sh
${evalCommand}
\`\`\`

(the CLI runs on the tfjs \`cpu\` backend; training measured on \`${r.training.backend}\`, so the last digits may differ by float rounding).
${monitorLine(r)}
${styleShiftSection(r.styleShift, modelDir)}
## Samples

${r.recipe.sampleTokens} new tokens after each prompt (the prompt in bold), greedy and sampled
(temperature ${SAMPLING.temperature}, top-k ${SAMPLING.topK}, seed ${r.seed}):

${samples}
## How to reproduce

\`\`\`sh
${r.command}
\`\`\`

trains the tokenizer and the model, evaluates them, and writes this directory (config.json,
model.safetensors, tokenizer.json, tokenizer_config.json, training.json with every number above,
and this card). The run is seeded: the same command on the same backend gives the same weights.
\`--quick\` trains a tiny model in seconds (what the tests run).

## Licence

The text of *Moby Dick* (1851) is in the public domain. The weights, tokenizer and this card are
released under the project's licence (MIT).

## Limitations

Trained on a single 19th-century novel (${n(r.data.trainTokens)} tokens): expect archaic, nautical
vocabulary, frequent repetition in greedy decoding, no factual knowledge and no instruction
following. Prompts longer than ${r.recipe.seqLen} tokens are beyond anything seen in training.
`;
}
