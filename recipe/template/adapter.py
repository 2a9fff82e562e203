"""What a run writes: the studio's native S2FT adapter and its exact PEFT-LoRA form.

Native (one .safetensors; __metadata__ {"format": "s2ft", "s2ft_config": JSON}), per trained module:
  model.layers.{i}.self_attn.o_proj.s2ft_delta    F32 [hidden, k]  W[:, columns[j]] += delta[:, j]
  model.layers.{i}.self_attn.o_proj.s2ft_columns  I32 [k]
  model.layers.{i}.mlp.down_proj.s2ft_delta / s2ft_columns          (likewise)
  model.layers.{i}.self_attn.v_proj.s2ft_delta    F32 [r, hidden]  W[rows[j], :] += delta[j, :]
  model.layers.{i}.self_attn.v_proj.s2ft_rows     I32 [r]          (likewise mlp.up_proj)

PEFT LoRA (adapter_config.json + adapter_model.safetensors): a column block is a rank-k LoRA with
lora_B = delta, lora_A = one-hot(columns); a row block has lora_B = one-hot(rows), lora_A = delta;
lora_alpha = rank per module (scale 1), so B @ A equals the native delta exactly.
"""
import json
import os

import torch

from model import weight_name
from safetensors_io import save_file

INDEX_SUFFIX = {"columns": "s2ft_columns", "rows": "s2ft_rows"}


def s2ft_config(blocks, config, base_model, selection_info, training):
    return {
        "peft_type": "S2FT",
        "format_version": 1,
        "base_model": {"name": base_model["name"], "fingerprint": base_model["fingerprint"]},
        "target_modules": sorted({b[1] for b in blocks}, key=["o_proj", "down_proj", "v_proj", "up_proj"].index),
        "selection": selection_info,
        "training": training,
        "model": {
            "num_layers": config.num_layers,
            "hidden_size": config.hidden_size,
            "intermediate_size": config.intermediate_size,
            "num_attention_heads": config.num_heads,
            "num_key_value_heads": config.num_kv_heads,
            "head_dim": config.head_dim,
        },
    }


def write_s2ft_adapter(path, blocks, config, base_model, selection_info, training):
    """blocks: [(layer, module, axis, indices, delta [out, k] or [k, in])] as S2ft.blocks() returns."""
    tensors = {}
    for layer, module, axis, indices, delta in blocks:
        name = weight_name(layer, module)
        tensors[f"{name}.s2ft_delta"] = delta.float()
        tensors[f"{name}.{INDEX_SUFFIX[axis]}"] = torch.tensor(indices, dtype=torch.int32)
    cfg = s2ft_config(blocks, config, base_model, selection_info, training)
    save_file(tensors, path, {"format": "s2ft", "s2ft_config": json.dumps(cfg)})


def write_peft_lora(directory, blocks, config, base_model_name):
    """The same update as a PEFT LoRA adapter directory."""
    os.makedirs(directory, exist_ok=True)
    tensors = {}
    ranks = {}
    for layer, module, axis, indices, delta in blocks:
        prefix = f"base_model.model.{weight_name(layer, module)}"
        k = len(indices)
        if axis == "columns":
            out_dim, in_dim = delta.shape[0], module_in_dim(config, module)
            a = torch.zeros(k, in_dim)                                           # [k, in] one-hot(J)
            a[torch.arange(k), torch.tensor(indices)] = 1
            b = delta.float()                                                    # [out, k]
        else:
            out_dim = module_out_dim(config, module)
            b = torch.zeros(out_dim, k)                                          # [out, k] one-hot(I)
            b[torch.tensor(indices), torch.arange(k)] = 1
            a = delta.float()                                                    # [k, in]
        tensors[f"{prefix}.lora_A.weight"] = a
        tensors[f"{prefix}.lora_B.weight"] = b
        # PEFT matches pattern keys as regexes on module names; dropping "model." suits old and new releases.
        ranks[weight_name(layer, module)[len("model."):]] = k
    r = max([1, *ranks.values()])
    pattern = {key: k for key, k in ranks.items() if k != r}
    cfg = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": base_model_name,
        "r": r, "lora_alpha": r, "lora_dropout": 0.0,
        "target_modules": sorted({b[1] for b in blocks}),
        "rank_pattern": pattern, "alpha_pattern": pattern,
        "bias": "none", "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
        "modules_to_save": None, "layers_to_transform": None, "layers_pattern": None, "revision": None,
    }
    with open(os.path.join(directory, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    save_file(tensors, os.path.join(directory, "adapter_model.safetensors"), {"format": "pt"})


def module_in_dim(config, module):
    return {"o_proj": config.num_heads * config.head_dim, "down_proj": config.intermediate_size}[module]


def module_out_dim(config, module):
    return {"v_proj": config.num_kv_heads * config.head_dim, "up_proj": config.intermediate_size}[module]
