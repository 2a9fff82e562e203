"""The recipe's LLaMA forward against logits computed by the studio (src/core/model/llama.ts) on
checkpoints written by the studio (src/core/io/checkpoint.ts). recipe/recipe.test.ts writes the
fixtures and sets RECIPE_FIXTURE; run directly, these tests skip with that reason.
"""
import json
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "template"))
from model import load_model  # noqa: E402
from safetensors_io import load_file, save_file  # noqa: E402

FIXTURE = os.environ.get("RECIPE_FIXTURE")
TOL = 1e-4


class SafetensorsRoundTrip(unittest.TestCase):
    def test_round_trip(self):
        tensors = {"a": torch.randn(3, 5), "b": torch.arange(7, dtype=torch.int32),
                   "c": torch.randn(4).to(torch.bfloat16), "d": torch.randn(2, 2).half()}
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.safetensors")
            save_file(tensors, path, {"format": "pt"})
            back, metadata = load_file(path)
        self.assertEqual(metadata, {"format": "pt"})
        for name, t in tensors.items():
            self.assertEqual(back[name].dtype, t.dtype, name)
            self.assertTrue(torch.equal(back[name], t), name)


@unittest.skipUnless(FIXTURE, "RECIPE_FIXTURE is not set (recipe/recipe.test.ts writes the studio's checkpoints and logits)")
class ForwardMatchesStudio(unittest.TestCase):
    def test_logits(self):
        with open(os.path.join(FIXTURE, "forward.json")) as f:
            cases = json.load(f)
        for case in cases:
            model = load_model(os.path.join(FIXTURE, case["model"]))
            ids = torch.tensor(case["input_ids"])
            with torch.no_grad():
                logits = model(ids)                                             # [B, T, V]
            expected = torch.tensor(case["logits"]).reshape(logits.shape)
            diff = float((logits - expected).abs().max())
            scale = float(expected.abs().max())
            print(f"{case['model']}: logits {list(logits.shape)}, max |diff| {diff:.2e} (max |logit| {scale:.2f}, tol {TOL})")
            self.assertLess(diff, TOL, case["model"])


if __name__ == "__main__":
    unittest.main()
