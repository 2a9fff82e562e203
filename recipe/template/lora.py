"""LoRA (Hu et al. 2021), the baseline the studio trains S2FT against, as PEFT builds it:

    y = x W^T + b + (alpha / r) * dropout(x) A^T B^T        A [r, in], B [out, r]

The run starts from the studio's own initial adapter (lora_init/, a PEFT LoRA directory the studio
wrote with B = 0 and its seeded A), so the recipe and the studio train the same numbers; its
adapter_config.json gives r, lora_alpha and lora_dropout, its tensors the adapted modules. The
result is written as a PEFT LoRA directory with the same config. Dropout masks come from torch's
generator, so with lora_dropout > 0 the two engines agree in distribution, not bit for bit.
x: [N, in], W: [out, in] (HF layout), N = batch * tokens.
"""
import json
import os
import re

import torch
import torch.nn.functional as F

from safetensors_io import load_file, save_file

CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILE = "adapter_model.safetensors"
# base_model.model.model.layers.{i}.{self_attn|mlp}.{module}.lora_{A|B}.weight
TENSOR_NAME = re.compile(r"^base_model\.model\.model\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])\.weight$")


class LoraError(ValueError):
    """An initial adapter that does not fit the model; the message names the file and tensor."""


class Lora(torch.nn.Module):
    """The adapter pairs of lora_init/; its `linear` replaces the model's (see model.py).
    Parameter names are "{layer}:{module}:{A|B}" ("." is not allowed in a name)."""

    def __init__(self, model, init_dir):
        super().__init__()
        with open(os.path.join(init_dir, CONFIG_FILE)) as f:
            self.config = json.load(f)
        self.scale = self.config["lora_alpha"] / self.config["r"]
        self.dropout = float(self.config.get("lora_dropout") or 0.0)
        path = os.path.join(init_dir, WEIGHTS_FILE)
        tensors, _ = load_file(path)
        self.names = {}
        self.pairs = torch.nn.ParameterDict()
        for name, tensor in tensors.items():
            match = TENSOR_NAME.match(name)
            if match is None:
                raise LoraError(f"{path}: tensor {name} is not a LoRA weight of a decoder linear")
            layer, module, which = int(match[1]), match[2], match[3]
            if layer >= len(model.layers) or module not in model.layers[layer].weight:
                raise LoraError(f"{path}: tensor {name} names a linear the model does not have")
            out_dim, in_dim = model.layers[layer].weight[module].shape
            expected = [self.config["r"], in_dim] if which == "A" else [out_dim, self.config["r"]]
            if list(tensor.shape) != expected:
                raise LoraError(f"{path}: tensor {name} has shape {list(tensor.shape)}, expected {expected}")
            key = f"{layer}:{module}:{which}"
            device = model.layers[layer].weight[module].device
            self.pairs[key] = torch.nn.Parameter(tensor.to(torch.float32).to(device))
            self.names[key] = name
        for key in self.pairs:
            other = key[:-1] + ("B" if key.endswith("A") else "A")
            if other not in self.pairs:
                raise LoraError(f"{path}: {self.names[key]} has no lora_{other[-1]} partner")

    def linear(self, x, weight, bias, layer, module):
        """x [N, in] -> [N, out]"""
        y = F.linear(x, weight, bias)
        key = f"{layer}:{module}"
        if f"{key}:A" not in self.pairs:
            return y
        a, b = self.pairs[f"{key}:A"], self.pairs[f"{key}:B"]                      # [r, in], [out, r]
        xd = F.dropout(x, self.dropout, self.training) if self.dropout > 0 else x  # [N, in]
        return y + self.scale * F.linear(F.linear(xd, a.to(x.dtype)), b.to(x.dtype))  # [N, out]

    def write(self, directory):
        """The trained adapter as a PEFT LoRA directory, with lora_init's config."""
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, CONFIG_FILE), "w") as f:
            json.dump(self.config, f, indent=2)
        tensors = {self.names[key]: p.detach().float().cpu() for key, p in self.pairs.items()}
        save_file(tensors, os.path.join(directory, WEIGHTS_FILE), {"format": "pt"})


class LoraLM(torch.nn.Module):
    """Base model + LoRA pairs as one module (what DDP wraps): input_ids [B, T] -> logits [B, T, V]."""

    def __init__(self, model, init_dir):
        super().__init__()
        self.base = model
        self.lora = Lora(model, init_dir)
        model.linear = self.lora.linear

    def forward(self, input_ids):
        return self.base(input_ids)
