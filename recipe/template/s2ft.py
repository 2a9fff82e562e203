"""S2FT (Structured Sparse Fine-Tuning, NeurIPS 2024) on a frozen causal LM of model.py (any of its families).

Selected attention heads train their o_proj input COLUMNS, selected FFN channels their down_proj
input columns (optionally: selected kv heads their v_proj output ROWS, channels their up_proj rows).
Each trained block is a dense delta S gathered by index in the checkpoint's original coordinates;
q/k/v are never permuted, so grouped-query attention needs nothing special.

Partial back-propagation (paper section 3.3), as explicit forward/backward pairs:
  ColumnBlockLinear  y = x W^T + x[:, J] S^T + b    saves x[:, J]   dS = dy^T x[:, J]
                                                                    dx = dy W + scatter_J(dy S)
  RowBlockLinear     y = x W^T + scatter_I(x S^T) + b  saves x      dS = dy[:, I]^T x
                                                                    dx = dy W + dy[:, I] S
  frozen linear      y = x W^T + b                   (W has requires_grad=False: no dW, and
                                                      autograd saves only x for dx = dy W)
x: [N, in], W: [out, in] (HF layout), N = batch * tokens.
"""
import json

import torch

COLUMN_MODULES = ("o_proj", "down_proj")
ROW_MODULES = ("v_proj", "up_proj")
MODULE_ORDER = ("o_proj", "down_proj", "v_proj", "up_proj")


class SelectionError(ValueError):
    """A selection file that does not fit the model; the message names the file and field."""


class ColumnBlockLinear(torch.autograd.Function):
    """y = x W^T + x[:, J] S^T + b.  x [N, in], W [out, in], S [out, k], J [k] -> [N, out]"""

    @staticmethod
    def forward(ctx, x, weight, bias, delta, columns):
        x_j = x.index_select(1, columns)                                  # [N, k]
        y = x @ weight.t() + x_j @ delta.to(x.dtype).t()                  # [N, out]
        if bias is not None:
            y = y + bias
        ctx.save_for_backward(x_j, weight, delta, columns)                # only x[:, J] of the activations
        return y

    @staticmethod
    def backward(ctx, dy):
        x_j, weight, delta, columns = ctx.saved_tensors
        d_delta = (dy.t() @ x_j).to(delta.dtype)                          # [out, k]
        dx = dy @ weight                                                  # [N, in]
        dx = dx.index_add(1, columns, dy @ delta.to(dy.dtype))            # [N, in] += scatter_J(dy S)
        return dx, None, None, d_delta, None


class RowBlockLinear(torch.autograd.Function):
    """y = x W^T + scatter_I(x S^T) + b.  x [N, in], W [out, in], S [k, in], I [k] -> [N, out]"""

    @staticmethod
    def forward(ctx, x, weight, bias, delta, rows):
        y = x @ weight.t()                                                # [N, out]
        y = y.index_add(1, rows, x @ delta.to(x.dtype).t())               # [N, out] rows I += x S^T
        if bias is not None:
            y = y + bias
        ctx.save_for_backward(x, weight, delta, rows)                     # a row block needs all of x
        return y

    @staticmethod
    def backward(ctx, dy):
        x, weight, delta, rows = ctx.saved_tensors
        dy_i = dy.index_select(1, rows)                                   # [N, k]
        d_delta = (dy_i.t() @ x).to(delta.dtype)                          # [k, in]
        dx = dy @ weight + dy_i @ delta.to(dy.dtype)                      # [N, in]
        return dx, None, None, d_delta, None


def head_units(heads, head_dim):
    """Columns (or rows) owned by heads: head h owns h*hd ... (h+1)*hd - 1, heads ascending."""
    return [h * head_dim + d for h in sorted(heads) for d in range(head_dim)]


def read_selection(path, config):
    """Checks selection.json ({"layers": [{"heads", "channels", "vHeads"?, "upChannels"?}]})."""
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as e:
            raise SelectionError(f"{path}: not valid JSON ({e})") from None
    layers = data.get("layers") if isinstance(data, dict) else None
    if not isinstance(layers, list):
        raise SelectionError(f'{path}: expected an object with a "layers" array')
    if len(layers) != config.num_layers:
        raise SelectionError(f'{path}: "layers" has {len(layers)} entries but the model has {config.num_layers} layers')
    limits = {"heads": config.num_heads, "channels": config.intermediate_size,
              "vHeads": config.num_kv_heads, "upChannels": config.intermediate_size}
    for i, entry in enumerate(layers):
        for key, values in entry.items():
            if key not in limits:
                raise SelectionError(f'{path}: layers[{i}] has unknown field "{key}"')
            bad = [v for v in values if not isinstance(v, int) or not 0 <= v < limits[key]]
            if bad or len(set(values)) != len(values):
                raise SelectionError(f"{path}: layers[{i}].{key} must be distinct integers in [0, {limits[key]}), got {values}")
    return layers


def block_indices(config, layer_selection):
    """{module: ascending original indices} of the blocks one layer trains (empty ones left out)."""
    hd = config.head_dim
    blocks = {
        "o_proj": head_units(layer_selection.get("heads", []), hd),
        "down_proj": sorted(layer_selection.get("channels", [])),
        "v_proj": head_units(layer_selection.get("vHeads", []), hd),
        "up_proj": sorted(layer_selection.get("upChannels", [])),
    }
    return {m: idx for m, idx in blocks.items() if idx}


class S2ft(torch.nn.Module):
    """The trainable deltas of a selection; its `linear` replaces the model's (see model.py).

    Deltas are float32 and start at zero, so the first forward equals the base model's.
    Parameter names are "{layer}:{module}" ("." is not allowed in a name); DDP sees them as
    ordinary parameters.
    """

    def __init__(self, model, selection):
        super().__init__()
        self.deltas = torch.nn.ParameterDict()
        self.indices = {}
        for layer, sel in enumerate(selection):
            for module, idx in block_indices(model.config, sel).items():
                out_dim, in_dim = model.layers[layer].weight[module].shape
                device = model.layers[layer].weight[module].device
                shape = (out_dim, len(idx)) if module in COLUMN_MODULES else (len(idx), in_dim)
                key = f"{layer}:{module}"
                self.deltas[key] = torch.nn.Parameter(torch.zeros(shape, dtype=torch.float32, device=device))
                self.indices[key] = torch.tensor(idx, dtype=torch.int64, device=device)

    def linear(self, x, weight, bias, layer, module):
        key = f"{layer}:{module}"
        if key not in self.deltas:
            return torch.nn.functional.linear(x, weight, bias)
        fn = ColumnBlockLinear if module in COLUMN_MODULES else RowBlockLinear
        return fn.apply(x, weight, bias, self.deltas[key], self.indices[key].to(x.device))

    def blocks(self):
        """[(layer, module, axis, indices list, delta tensor)] in layer, then module order."""
        out = []
        for key, delta in self.deltas.items():
            layer, module = key.split(":")
            axis = "columns" if module in COLUMN_MODULES else "rows"
            out.append((int(layer), module, axis, self.indices[key].tolist(), delta.detach().float().cpu()))
        return sorted(out, key=lambda b: (b[0], MODULE_ORDER.index(b[1])))


class S2ftLM(torch.nn.Module):
    """Base model + S2FT deltas as one module (what DDP wraps): input_ids [B, T] -> logits [B, T, V]."""

    def __init__(self, model, selection):
        super().__init__()
        self.base = model
        self.s2ft = S2ft(model, selection)
        model.linear = self.s2ft.linear

    def forward(self, input_ids):
        return self.base(input_ids)
