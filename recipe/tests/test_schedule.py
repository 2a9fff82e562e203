"""train.py's learning_rate equals the studio's (src/core/train/schedule.ts) at every update of linear,
cosine and constant runs, with and without warm-up. recipe/recipe.test.ts writes the studio's rates and sets
RECIPE_FIXTURE; run directly, the comparison skips with that reason.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "template"))
from train import learning_rate  # noqa: E402

FIXTURE = os.environ.get("RECIPE_FIXTURE")


@unittest.skipUnless(FIXTURE, "RECIPE_FIXTURE is not set (recipe/recipe.test.ts writes the studio's rates)")
class ScheduleMatchesStudio(unittest.TestCase):
    def test_every_update(self):
        with open(os.path.join(FIXTURE, "schedules.json")) as f:
            cases = json.load(f)
        worst = 0.0
        for case in cases:
            for step, expected in enumerate(case["rates"]):
                got = learning_rate(step, case["peak"], case["warmup"], case["total"], case["kind"])
                worst = max(worst, abs(got - expected) / case["peak"])
                self.assertAlmostEqual(got / case["peak"], expected / case["peak"], places=12,
                                       msg=f"{case['kind']} warmup {case['warmup']} step {step}")
        kinds = sorted({c["kind"] for c in cases})
        print(f"learning rates of {len(cases)} runs ({', '.join(kinds)}) equal the studio's; max diff {worst:.1e} x peak")


if __name__ == "__main__":
    unittest.main()
