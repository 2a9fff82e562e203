"""data.py reproduces the studio's batches (src/core/train/batches.ts, src/core/random.ts): the same
windows, padding, loss masks and seeded order across epochs. recipe/recipe.test.ts writes the
studio's batches and sets RECIPE_FIXTURE; run directly, the comparison skips with that reason.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "template"))
from data import BatchStream, mix_seed, mulberry32, permutation  # noqa: E402

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
