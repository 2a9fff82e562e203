"""Full fine-tuning, the baseline that trains every weight (embedding, norms, every linear weight and
bias, lm_head), as the studio's full FT does; the result is a complete checkpoint directory.

Weights train in float32 (no bfloat16 master copies here), so --dtype bfloat16 is refused for it.
"""
import os
import shutil

import torch

from model import named_weights
from safetensors_io import save_file

# The base directory's files a checkpoint carries over unchanged (the weights are rewritten).
CARRIED_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "tokenizer.model")


class FullLM(torch.nn.Module):
    """The base model with every weight trainable: input_ids [B, T] -> logits [B, T, V]."""

    def __init__(self, model):
        super().__init__()
        self.base = model
        for p in model.parameters():
            p.requires_grad_(True)

    def forward(self, input_ids):
        return self.base(input_ids)

    def write(self, directory, base_dir):
        """config.json and the tokenizer files of base_dir, and every trained weight in float32."""
        os.makedirs(directory, exist_ok=True)
        for name in CARRIED_FILES:
            if os.path.exists(os.path.join(base_dir, name)):
                shutil.copyfile(os.path.join(base_dir, name), os.path.join(directory, name))
        tensors = {name: p.detach().float().cpu() for name, p in named_weights(self.base).items()}
        save_file(tensors, os.path.join(directory, "model.safetensors"), {"format": "pt"})
