"""A LLaMA-family causal LM (llama, mistral, qwen2, SmolLM) loaded from a HuggingFace directory,
with the same numerics as transformers' LlamaForCausalLM:

    embed -> L x [ x + attn(rmsnorm(x)) ; x + mlp(rmsnorm(x)) ] -> rmsnorm -> lm_head

RMSNorm in float32 with rms_norm_eps, rotate-half RoPE with rope_theta (and "llama3" scaling),
grouped-query attention (query head h reads kv head h // (H / Hkv)), SwiGLU down(silu(gate) * up),
q/k/v (and o) biases when the checkpoint has them, tied embeddings.

Every decoder linear goes through `linear(x, layer, module)`, which S2FT replaces (s2ft.py).
Shapes: B batch, T time, D hidden, H heads, Hkv kv heads, hd head dim, F intermediate, V vocab.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_io import load_file

MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ATTENTION_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
SUPPORTED_TYPES = ("llama", "mistral", "qwen2")


class CheckpointError(ValueError):
    """A checkpoint directory that cannot be used; the message names the file and the problem."""


def weight_name(layer, module):
    block = "self_attn" if module in ATTENTION_MODULES else "mlp"
    return f"model.layers.{layer}.{block}.{module}"


class LlamaConfig:
    """The fields of config.json the forward needs (defaults as transformers' LlamaConfig)."""

    def __init__(self, hf, path="config.json"):
        model_type = hf.get("model_type", "llama")
        if model_type not in SUPPORTED_TYPES:
            raise CheckpointError(f"{path}: model_type {model_type!r} is not supported (llama, mistral, qwen2)")
        if hf.get("hidden_act", "silu") != "silu":
            raise CheckpointError(f"{path}: hidden_act {hf['hidden_act']!r} is not supported (only silu)")
        self.model_type = model_type
        self.vocab_size = hf["vocab_size"]
        self.hidden_size = hf["hidden_size"]
        self.intermediate_size = hf["intermediate_size"]
        self.num_layers = hf["num_hidden_layers"]
        self.num_heads = hf["num_attention_heads"]
        self.num_kv_heads = hf.get("num_key_value_heads") or self.num_heads
        self.head_dim = hf.get("head_dim") or self.hidden_size // self.num_heads
        self.rms_norm_eps = hf.get("rms_norm_eps", 1e-6)
        self.rope_theta = hf.get("rope_theta", 10000.0)
        self.rope_scaling = hf.get("rope_scaling")
        self.tie_word_embeddings = hf.get("tie_word_embeddings", False)
        if self.num_heads % self.num_kv_heads != 0:
            raise CheckpointError(f"{path}: num_key_value_heads {self.num_kv_heads} must divide num_attention_heads {self.num_heads}")
        scaling_type = (self.rope_scaling or {}).get("rope_type", (self.rope_scaling or {}).get("type"))
        if self.rope_scaling is not None and scaling_type not in ("llama3", "default"):
            raise CheckpointError(f"{path}: rope_scaling of type {scaling_type!r} is not supported (only llama3 or none)")

    @classmethod
    def load(cls, directory):
        path = os.path.join(directory, "config.json")
        if not os.path.exists(path):
            raise CheckpointError(f"{path}: not found (a checkpoint directory needs config.json)")
        with open(path) as f:
            return cls(json.load(f), path)


def rope_inv_freq(config):
    """inv_freq [hd/2] as HF computes it in float32, then llama3-scaled when configured."""
    hd = config.head_dim
    inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))  # [hd/2]
    s = config.rope_scaling
    if s is None or s.get("rope_type", s.get("type")) != "llama3":
        return inv_freq
    # HF _compute_llama3_parameters: keep high frequencies, divide low ones by factor, blend between.
    factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
    old_context = s["original_max_position_embeddings"]
    low_freq_wavelen = old_context / low
    high_freq_wavelen = old_context / high
    wavelen = 2 * math.pi / inv_freq                                                      # [hd/2]
    scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)         # [hd/2]
    smooth = (old_context / wavelen - low) / (high - low)                                 # [hd/2]
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled                           # [hd/2]
    is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium, smoothed, scaled)


def rope_tables(inv_freq, T, device):
    """cos, sin [T, hd] of cat(freqs, freqs) for positions 0..T-1 (float32, as HF)."""
    positions = torch.arange(T, device=device, dtype=torch.float32)                      # [T]
    freqs = positions[:, None] * inv_freq.to(device)[None, :]                             # [T, hd/2]
    emb = torch.cat((freqs, freqs), dim=-1)                                               # [T, hd]
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)                                                           # [..., hd/2] each
    return torch.cat((-x2, x1), dim=-1)                                                   # [..., hd]


def rms_norm(x, weight, eps):
    """x * rsqrt(mean(x^2) + eps) * w, computed in float32 and cast back as HF's LlamaRMSNorm."""
    dtype = x.dtype
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)                            # [..., D]
    return weight * h.to(dtype)


class DecoderLayer(nn.Module):
    """One block; its linear weights are frozen Parameters named as in the HF checkpoint."""

    def __init__(self, config, index):
        super().__init__()
        self.config = config
        self.index = index
        self.input_layernorm = nn.Parameter(torch.empty(0), requires_grad=False)
        self.post_attention_layernorm = nn.Parameter(torch.empty(0), requires_grad=False)
        self.weight = nn.ParameterDict()
        self.bias = nn.ParameterDict()

    def forward(self, x, cos, sin, linear):
        c = self.config
        B, T, D = x.shape
        H, Hkv, hd = c.num_heads, c.num_kv_heads, c.head_dim

        def proj(h, module):
            out = linear(h.reshape(B * T, -1), self.weight[module], self.bias[module] if module in self.bias else None,
                         self.index, module)                                              # [N, out]
            return out.reshape(B, T, -1)

        h = rms_norm(x, self.input_layernorm, c.rms_norm_eps)                             # [B, T, D]
        q = proj(h, "q_proj").view(B, T, H, hd).transpose(1, 2)                           # [B, H, T, hd]
        k = proj(h, "k_proj").view(B, T, Hkv, hd).transpose(1, 2)                         # [B, Hkv, T, hd]
        v = proj(h, "v_proj").view(B, T, Hkv, hd).transpose(1, 2)                         # [B, Hkv, T, hd]
        q = q * cos + rotate_half(q) * sin                                                # [B, H, T, hd]
        k = k * cos + rotate_half(k) * sin                                                # [B, Hkv, T, hd]
        k = k.repeat_interleave(H // Hkv, dim=1)                                          # [B, H, T, hd]
        v = v.repeat_interleave(H // Hkv, dim=1)                                          # [B, H, T, hd]
        scores = q @ k.transpose(2, 3) / math.sqrt(hd)                                    # [B, H, T, T]
        causal = torch.full((T, T), float("-inf"), device=x.device).triu(1)               # [T, T]
        probs = F.softmax((scores + causal).float(), dim=-1).to(q.dtype)                  # [B, H, T, T]
        attn = (probs @ v).transpose(1, 2).reshape(B, T, H * hd)                          # [B, T, H*hd]
        x = x + proj(attn, "o_proj")                                                      # [B, T, D]

        h = rms_norm(x, self.post_attention_layernorm, c.rms_norm_eps)                    # [B, T, D]
        act = F.silu(proj(h, "gate_proj")) * proj(h, "up_proj")                           # [B, T, F]
        return x + proj(act, "down_proj")                                                 # [B, T, D]


def plain_linear(x, weight, bias, layer, module):
    """y = x W^T + b.  x [N, in], W [out, in] -> [N, out]"""
    return F.linear(x, weight, bias)


class LlamaForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Parameter(torch.empty(0), requires_grad=False)
        self.layers = nn.ModuleList([DecoderLayer(config, i) for i in range(config.num_layers)])
        self.norm = nn.Parameter(torch.empty(0), requires_grad=False)
        self.lm_head = nn.Parameter(torch.empty(0), requires_grad=False)
        self.register_buffer("inv_freq", rope_inv_freq(config), persistent=False)
        self.linear = plain_linear

    def forward(self, input_ids):
        """input_ids [B, T] int64 -> logits [B, T, V] (float32)."""
        B, T = input_ids.shape
        cos, sin = rope_tables(self.inv_freq, T, input_ids.device)                        # [T, hd] each
        x = F.embedding(input_ids, self.embed_tokens)                                     # [B, T, D]
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        for layer in self.layers:
            x = layer(x, cos, sin, self.linear)                                           # [B, T, D]
        x = rms_norm(x, self.norm, self.config.rms_norm_eps)                              # [B, T, D]
        head = self.embed_tokens if self.config.tie_word_embeddings else self.lm_head
        return F.linear(x, head).float()                                                  # [B, T, V]


def checkpoint_files(directory):
    """The safetensors files of a checkpoint: model.safetensors, or the shards of its index."""
    single = os.path.join(directory, "model.safetensors")
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(single):
        return [single]
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        return [os.path.join(directory, shard) for shard in sorted(set(weight_map.values()))]
    raise CheckpointError(f"{directory}: has neither model.safetensors nor model.safetensors.index.json")


def load_model(directory, dtype=torch.float32):
    """A frozen LlamaForCausalLM with the checkpoint's weights (upcast or cast to `dtype`)."""
    config = LlamaConfig.load(directory)
    tensors = {}
    for path in checkpoint_files(directory):
        tensors.update(load_file(path)[0])
    model = LlamaForCausalLM(config)

    def take(name, shape):
        if name not in tensors:
            raise CheckpointError(f"{directory}: tensor {name} is missing")
        t = tensors.pop(name)
        if list(t.shape) != list(shape):
            raise CheckpointError(f"{directory}: tensor {name} has shape {list(t.shape)}, expected {list(shape)}")
        return nn.Parameter(t.to(dtype), requires_grad=False)

    c = config
    D, Fd, V, hd = c.hidden_size, c.intermediate_size, c.vocab_size, c.head_dim
    shapes = {"q_proj": [c.num_heads * hd, D], "k_proj": [c.num_kv_heads * hd, D], "v_proj": [c.num_kv_heads * hd, D],
              "o_proj": [D, c.num_heads * hd], "gate_proj": [Fd, D], "up_proj": [Fd, D], "down_proj": [D, Fd]}
    model.embed_tokens = take("model.embed_tokens.weight", [V, D])
    for i, layer in enumerate(model.layers):
        layer.input_layernorm = take(f"model.layers.{i}.input_layernorm.weight", [D])
        layer.post_attention_layernorm = take(f"model.layers.{i}.post_attention_layernorm.weight", [D])
        for m in MODULES:
            layer.weight[m] = take(f"{weight_name(i, m)}.weight", shapes[m])
            if f"{weight_name(i, m)}.bias" in tensors:
                layer.bias[m] = take(f"{weight_name(i, m)}.bias", [shapes[m][0]])
    model.norm = take("model.norm.weight", [D])
    if not c.tie_word_embeddings:
        model.lm_head = take("lm_head.weight", [V, D])
    return model
