"""Datasets and batches exactly as the studio makes them (src/core/train/data.ts, dataFormats.ts,
batches.ts, src/core/random.ts), so that a run here sees the same rows in the same order.

Rows (.jsonl, one JSON object a line): {"input_ids": [...], "labels"?: [...]}, tokenized by the
studio's export with the model's own tokenizer, instruction and chat templates and loss masking;
labels are the ids, or -100 where a token is not a target. The recipe reads no text, so it needs no
tokenizer.

A unit is up to T+1 tokens: inputs are its first T, labels[t] = ids[t+1] where that token is a
target. Units are visited per epoch in the permutation seeded by mix_seed(seed, epoch).
"""
import json

IGNORE_INDEX = -100
MASK32 = 0xFFFFFFFF


class DataError(ValueError):
    """A dataset that cannot be used; the message names the file (and line)."""


# ---------------------------------------------------------------- seeded order (random.ts)

def imul(a, b):
    """Math.imul on unsigned 32-bit values (the low 32 bits of the product)."""
    return (a * b) & MASK32


def mulberry32(seed):
    state = seed & MASK32

    def random():
        nonlocal state
        state = (state + 0x6D2B79F5) & MASK32
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & MASK32
        return ((t ^ (t >> 14)) & MASK32) / 4294967296

    return random


def mix_seed(*parts):
    h = 0x811C9DC5
    for p in parts:
        h = imul(h ^ (p & MASK32), 0x01000193)
        h = imul(h ^ (h >> 13), 0x5BD1E995)
        h ^= h >> 15
    return h & MASK32


def permutation(n, seed):
    """Fisher-Yates over 0..n-1 with mulberry32(seed)."""
    order = list(range(n))
    random = mulberry32(seed)
    for i in range(n - 1, 0, -1):
        j = int(random() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


# ---------------------------------------------------------------- rows (data.ts, dataFormats.ts)

def token_row(row, where, vocab_size):
    """(input_ids, loss_mask) of one pre-tokenized row."""
    if not isinstance(row, dict) or "input_ids" not in row:
        raise DataError(f'{where}: expected a pre-tokenized {{"input_ids"}} row (export-recipe writes them)')
    ids = row["input_ids"]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and 0 <= i < vocab_size for i in ids):
        raise DataError(f'{where}: "input_ids" must be a non-empty list of integers in [0, {vocab_size})')
    labels = row.get("labels")
    if labels is None:
        return ids, [True] * len(ids)
    if len(labels) != len(ids) or any(l != IGNORE_INDEX and l != i for l, i in zip(labels, ids)):
        raise DataError(f'{where}: "labels" must have one entry per input id, each -100 or equal to the id')
    return ids, [l != IGNORE_INDEX for l in labels]


def load_examples(path, vocab_size):
    """[(input_ids, loss_mask)] of a pre-tokenized .jsonl file. Broken lines stop the run: fix the data first."""
    if not path.endswith(".jsonl"):
        raise DataError(f"{path}: the recipe reads pre-tokenized .jsonl rows (export-recipe writes them)")
    examples = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                raise DataError(f"{path}: line {n}: invalid JSON ({e})") from None
            where = f"{path}: line {n}"
            try:
                examples.append(token_row(row, where, vocab_size))
            except (KeyError, TypeError) as e:
                raise DataError(f"{where}: missing or malformed field {e}") from None
    if not examples:
        raise DataError(f"{path}: the dataset has no rows")
    return examples


# ---------------------------------------------------------------- batches (batches.ts)

def make_units(examples, seq_len, pack, eos_token_id):
    """Windows of up to T+1 tokens (packed) or one unit per example (truncated); units with no target dropped."""
    if pack:
        ids, mask = [], []
        for e_ids, e_mask in examples:
            if ids and eos_token_id is not None and ids[-1] != eos_token_id:
                ids.append(eos_token_id)
                mask.append(True)
            ids.extend(e_ids)
            mask.extend(e_mask)
        units = [(ids[s:s + seq_len + 1], mask[s:s + seq_len + 1]) for s in range(0, len(ids) - 1, seq_len)]
    else:
        units = [(ids[:seq_len + 1], mask[:seq_len + 1]) for ids, mask in examples]
    units = [u for u in units if any(m for m in u[1][1:])]
    if not units:
        raise DataError(f"no example has a target token within the first {seq_len + 1} tokens")
    return units


class BatchStream:
    """An endless sequence of rows across epochs, in the studio's seeded order."""

    def __init__(self, examples, seq_len, seed, pack, eos_token_id):
        self.units = make_units(examples, seq_len, pack, eos_token_id)
        self.seq_len = seq_len
        self.seed = seed
        self.pad_id = eos_token_id if eos_token_id is not None else 0
        self.epoch = 0
        self.index = 0
        self.order = self.epoch_order(0)

    def epoch_order(self, epoch):
        return permutation(len(self.units), mix_seed(self.seed, epoch))

    def next_rows(self, count):
        """(input_ids, labels) as lists of `count` rows of T ints each."""
        rows = []
        while len(rows) < count:
            if self.index == len(self.units):
                self.epoch += 1
                self.index = 0
                self.order = self.epoch_order(self.epoch)
            rows.append(self.units[self.order[self.index]])
            self.index += 1
        return to_batch(rows, self.seq_len, self.pad_id)


def to_batch(rows, seq_len, pad_id):
    input_ids, labels = [], []
    for ids, mask in rows:
        x = [pad_id] * seq_len
        y = [IGNORE_INDEX] * seq_len
        for t in range(min(seq_len, len(ids))):
            x[t] = ids[t]
            if t + 1 < len(ids) and mask[t + 1]:
                y[t] = ids[t + 1]
        input_ids.append(x)
        labels.append(y)
    return input_ids, labels
