"""The partial-backprop linears against plain autograd on the full weight, in float64.

For a column block, training S = W[:, J] directly with autograd gives dL/dS = (dL/dW)[:, J] and
the same dL/dx; the custom Function must reproduce both while saving only x[:, J].
"""
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "template"))
from s2ft import ColumnBlockLinear, RowBlockLinear  # noqa: E402

TOL = 1e-10


def rel(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


class PartialBackprop(unittest.TestCase):
    def setUp(self):
        g = torch.Generator().manual_seed(0)
        self.N, self.inp, self.out = 10, 12, 9
        self.x = torch.randn(self.N, self.inp, generator=g, dtype=torch.float64)
        self.w = torch.randn(self.out, self.inp, generator=g, dtype=torch.float64)
        self.b = torch.randn(self.out, generator=g, dtype=torch.float64)
        self.dy = torch.randn(self.N, self.out, generator=g, dtype=torch.float64)

    def reference(self, delta_full):
        """Autograd on W_eff = W + delta_full (the full weight is the trainable tensor)."""
        x = self.x.clone().requires_grad_(True)
        w = (self.w + delta_full).requires_grad_(True)
        y = torch.nn.functional.linear(x, w, self.b)
        y.backward(self.dy)
        return y.detach(), x.grad, w.grad

    def test_column_block(self):
        J = torch.tensor([1, 4, 5, 10])
        S = torch.randn(self.out, len(J), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
        full = torch.zeros_like(self.w)
        full[:, J] = S
        y_ref, dx_ref, dw_ref = self.reference(full)
        x = self.x.clone().requires_grad_(True)
        s = S.clone().requires_grad_(True)
        y = ColumnBlockLinear.apply(x, self.w, self.b, s, J)
        y.backward(self.dy)
        diffs = {"y": rel(y.detach(), y_ref), "dx": rel(x.grad, dx_ref), "dS": rel(s.grad, dw_ref[:, J])}
        print(f"column block: max rel diff {diffs} (tol {TOL})")
        for name, d in diffs.items():
            self.assertLess(d, TOL, name)

    def test_column_block_saves_only_selected_columns(self):
        J = torch.tensor([0, 3])
        x = self.x.clone().requires_grad_(True)
        s = torch.zeros(self.out, 2, dtype=torch.float64, requires_grad=True)
        y = ColumnBlockLinear.apply(x, self.w, self.b, s, J)
        saved_x = y.grad_fn.saved_tensors[0]
        print(f"column block saves x[:, J] of shape {list(saved_x.shape)} (x is {list(self.x.shape)})")
        self.assertEqual(list(saved_x.shape), [self.N, 2])
        self.assertTrue(torch.equal(saved_x, self.x[:, J]))

    def test_row_block(self):
        I = torch.tensor([0, 2, 7])
        S = torch.randn(len(I), self.inp, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
        full = torch.zeros_like(self.w)
        full[I, :] = S
        y_ref, dx_ref, dw_ref = self.reference(full)
        x = self.x.clone().requires_grad_(True)
        s = S.clone().requires_grad_(True)
        y = RowBlockLinear.apply(x, self.w, self.b, s, I)
        y.backward(self.dy)
        diffs = {"y": rel(y.detach(), y_ref), "dx": rel(x.grad, dx_ref), "dS": rel(s.grad, dw_ref[I, :])}
        print(f"row block: max rel diff {diffs} (tol {TOL})")
        for name, d in diffs.items():
            self.assertLess(d, TOL, name)

    def test_frozen_weight_gets_no_gradient(self):
        J = torch.tensor([2])
        w = self.w.clone()  # requires_grad False, as the model's frozen Parameters
        s = torch.zeros(self.out, 1, dtype=torch.float64, requires_grad=True)
        ColumnBlockLinear.apply(self.x, w, None, s, J).sum().backward()
        self.assertIsNone(w.grad)
        self.assertIsNotNone(s.grad)


if __name__ == "__main__":
    unittest.main()
