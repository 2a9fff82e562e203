"""data.py reproduces the studio's batches (src/core/train/batches.ts, src/core/random.ts): the same
windows, padding, loss masks and seeded order across epochs. recipe/recipe.test.ts writes the
studio's batches and sets RECIPE_FIXTURE; run directly, the comparison skips with that reason.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "template"))
from data import BatchStream, DataError, load_examples, mix_seed, mulberry32, permutation, token_row  # noqa: E402

FIXTURE = os.environ.get("RECIPE_FIXTURE")


class Shuffle(unittest.TestCase):
    def test_permutation_is_a_permutation(self):
        order = permutation(100, mix_seed(3, 1))
        self.assertEqual(sorted(order), list(range(100)))
        self.assertNotEqual(order, list(range(100)))

    def test_mulberry32_in_unit_interval(self):
        r = mulberry32(123)
        values = [r() for _ in range(1000)]
        self.assertTrue(all(0 <= v < 1 for v in values))
        self.assertGreater(len(set(values)), 990)


class PreTokenizedRowsOnly(unittest.TestCase):
    def test_text_rows_are_refused_by_name(self):
        with self.assertRaisesRegex(DataError, r'line 3: expected a pre-tokenized \{"input_ids"\} row'):
            token_row({"text": "hello"}, "data.jsonl: line 3", 100)

    def test_token_rows_give_ids_and_mask(self):
        self.assertEqual(token_row({"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, "w", 8),
                         ([5, 6, 7], [False, True, True]))
        with self.assertRaisesRegex(DataError, r"integers in \[0, 8\)"):
            token_row({"input_ids": [5, 9]}, "w", 8)

    def test_text_files_are_refused(self):
        with self.assertRaisesRegex(DataError, "pre-tokenized .jsonl"):
            load_examples("book.txt", 100)


@unittest.skipUnless(FIXTURE, "RECIPE_FIXTURE is not set (recipe/recipe.test.ts writes the studio's batches)")
class BatchesMatchStudio(unittest.TestCase):
    def test_batches(self):
        with open(os.path.join(FIXTURE, "batches.json")) as f:
            cases = json.load(f)
        for case in cases:
            examples = [(ids, mask) for ids, mask in case["examples"]]
            stream = BatchStream(examples, case["seqLen"], case["seed"], case["pack"], case["eos_token_id"])
            for i, expected in enumerate(case["batches"]):
                ids, labels = stream.next_rows(case["batchSize"])
                flat_ids = [t for row in ids for t in row]
                flat_labels = [t for row in labels for t in row]
                self.assertEqual(flat_ids, expected["input_ids"], f"pack={case['pack']} batch {i} input_ids")
                self.assertEqual(flat_labels, expected["labels"], f"pack={case['pack']} batch {i} labels")
            print(f"pack={case['pack']}: {len(case['batches'])} batches equal the studio's (epochs {stream.epoch + 1})")


if __name__ == "__main__":
    unittest.main()
