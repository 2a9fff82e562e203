"""A LLaMA-family causal LM (llama, mistral, qwen2, SmolLM, qwen3, gemma3_text) loaded from a
HuggingFace directory, with the same numerics as transformers' *ForCausalLM:

    embed -> L x [ x + attn(rmsnorm(x)) ; x + mlp(rmsnorm(x)) ] -> rmsnorm -> lm_head

RMSNorm in float32 with rms_norm_eps, rotate-half RoPE with rope_theta (and "llama3" scaling),
grouped-query attention (query head h reads kv head h // (H / Hkv)), SwiGLU down(silu(gate) * up),
q/k/v (and o) biases when the checkpoint has them, tied embeddings. qwen3 and gemma3_text RMS-norm
each query/key head before RoPE; gemma3_text also scales the embedding by sqrt(D), stores norms
zero-centred (x * (1 + w)), norms each branch's output (sandwich), uses GeGLU (tanh GELU), sliding-
window layers with their own RoPE base, query_pre_attn_scalar and tanh soft-capping. config.json is
read in the transformers >= 5 layout (rope_parameters, layer_types) or the older one.

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
SUPPORTED_TYPES = ("llama", "mistral", "qwen2", "qwen3", "gemma3_text")
# HF class defaults that differ from LlamaConfig's.
FAMILY_DEFAULTS = {
    "qwen3": {"head_dim": 128},
    "gemma3_text": {"head_dim": 256, "tie_word_embeddings": True, "rope_theta": 1000000.0},
}


class CheckpointError(ValueError):
    """A checkpoint directory that cannot be used; the message names the file and the problem."""


def weight_name(layer, module):
    block = "self_attn" if module in ATTENTION_MODULES else "mlp"
    return f"model.layers.{layer}.{block}.{module}"


class LlamaConfig:
    """The fields of config.json the forward needs (defaults as transformers' config classes).
    The studio has already refused every field it does not implement; this reads the same ones."""

    def __init__(self, hf, path="config.json"):
        model_type = hf.get("model_type", "llama")
        if model_type not in SUPPORTED_TYPES:
            raise CheckpointError(f"{path}: model_type {model_type!r} is not supported ({', '.join(SUPPORTED_TYPES)})")
        self.gemma = model_type == "gemma3_text"
        activation = hf.get("hidden_activation", "gelu_pytorch_tanh") if self.gemma else hf.get("hidden_act", "silu")
        if activation != ("gelu_pytorch_tanh" if self.gemma else "silu"):
            raise CheckpointError(f"{path}: activation {activation!r} is not supported")
        defaults = FAMILY_DEFAULTS.get(model_type, {})
        self.model_type = model_type
        self.qk_norm = model_type in ("qwen3", "gemma3_text")
        self.vocab_size = hf["vocab_size"]
        self.hidden_size = hf["hidden_size"]
        self.intermediate_size = hf["intermediate_size"]
        self.num_layers = hf["num_hidden_layers"]
        self.num_heads = hf["num_attention_heads"]
        self.num_kv_heads = hf.get("num_key_value_heads") or self.num_heads
        self.head_dim = hf.get("head_dim") or defaults.get("head_dim") or self.hidden_size // self.num_heads
        self.rms_norm_eps = hf.get("rms_norm_eps", 1e-6)
        self.tie_word_embeddings = hf.get("tie_word_embeddings", defaults.get("tie_word_embeddings", False))
        if self.num_heads % self.num_kv_heads != 0:
            raise CheckpointError(f"{path}: num_key_value_heads {self.num_kv_heads} must divide num_attention_heads {self.num_heads}")
        self.rope = read_rope(hf, self.gemma, defaults.get("rope_theta", 10000.0), path)
        # Per layer: "full_attention" or "sliding_attention" (gemma3_text: every pattern-th layer full).
        pattern = hf.get("sliding_window_pattern") or hf.get("_sliding_window_pattern") or 6
        default_types = ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(self.num_layers)]
        self.layer_types = hf.get("layer_types") or (default_types if self.gemma else ["full_attention"] * self.num_layers)
        self.sliding_window = (hf.get("sliding_window") or 4096) if self.gemma else None
        self.scaling = (hf.get("query_pre_attn_scalar") or 256) ** -0.5 if self.gemma else self.head_dim ** -0.5
        self.attn_softcap = hf.get("attn_logit_softcapping") if self.gemma else None
        self.final_softcap = hf.get("final_logit_softcapping") if self.gemma else None

    @classmethod
    def load(cls, directory):
        path = os.path.join(directory, "config.json")
        if not os.path.exists(path):
            raise CheckpointError(f"{path}: not found (a checkpoint directory needs config.json)")
        with open(path) as f:
            return cls(json.load(f), path)


def read_rope(hf, gemma, default_theta, path):
    """{layer type: (theta, llama3 scaling dict or None)} from rope_parameters (transformers >= 5: one
    object, or for gemma3_text one per layer type) or from rope_theta / rope_scaling /
    rope_local_base_freq (older layout; gemma's sliding layers use plain RoPE on the local base)."""
    def entry(params, theta):
        kind = params.get("rope_type", params.get("type", "default")) if params else "default"
        if kind not in ("default", "llama3"):
            raise CheckpointError(f"{path}: RoPE of type {kind!r} is not supported (only llama3 or none)")
        return (params.get("rope_theta", theta) if params else theta, params if kind == "llama3" else None)

    params = hf.get("rope_parameters")
    if params is not None and gemma:
        return {kind: entry(params[kind], None) for kind in ("full_attention", "sliding_attention")}
    if params is not None:
        full = entry(params, None)
        return {"full_attention": full, "sliding_attention": full}
    full = entry(hf.get("rope_scaling"), hf.get("rope_theta") or default_theta)
    local = (hf.get("rope_local_base_freq") or 10000.0, None) if gemma else full
    return {"full_attention": full, "sliding_attention": local}


def rope_inv_freq(config, layer_type="full_attention"):
    """inv_freq [hd/2] of one layer type as HF computes it in float32, then llama3-scaled when configured."""
    hd = config.head_dim
    theta, s = config.rope[layer_type]
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))  # [hd/2]
    if s is None:
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


def rms_norm(x, weight, eps, plus_one=False):
    """x * rsqrt(mean(x^2) + eps) * w in float32, cast back as HF's LlamaRMSNorm; with plus_one,
    Gemma3RMSNorm's (x * (1 + w)) in float32 then cast."""
    dtype = x.dtype
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)                            # [..., D]
    if plus_one:
        return (h * (1.0 + weight.float())).to(dtype)
    return weight * h.to(dtype)


def softcap(x, cap):
    """cap * tanh(x / cap), or x when cap is None."""
    return x if cap is None else torch.tanh(x / cap) * cap


class DecoderLayer(nn.Module):
    """One block; its linear weights are frozen Parameters named as in the HF checkpoint."""

    def __init__(self, config, index):
        super().__init__()
        self.config = config
        self.index = index
        self.input_layernorm = nn.Parameter(torch.empty(0), requires_grad=False)
        self.post_attention_layernorm = nn.Parameter(torch.empty(0), requires_grad=False)
        self.norms = nn.ParameterDict()  # q_norm, k_norm, pre/post_feedforward_layernorm by HF name
        self.weight = nn.ParameterDict()
        self.bias = nn.ParameterDict()

    def forward(self, x, cos, sin, mask, linear):
        c = self.config
        B, T, D = x.shape
        H, Hkv, hd = c.num_heads, c.num_kv_heads, c.head_dim

        def proj(h, module):
            out = linear(h.reshape(B * T, -1), self.weight[module], self.bias[module] if module in self.bias else None,
                         self.index, module)                                              # [N, out]
            return out.reshape(B, T, -1)

        def norm(h, weight):
            return rms_norm(h, weight, c.rms_norm_eps, c.gemma)

        def heads(h, n, norm_name):
            h = h.view(B, T, n, hd)                                                       # [B, T, n, hd]
            if c.qk_norm:
                h = norm(h, self.norms[norm_name.replace(".", "_")])                      # per head, one [hd] weight
            return h.transpose(1, 2)                                                      # [B, n, T, hd]

        h = norm(x, self.input_layernorm)                                                 # [B, T, D]
        q = heads(proj(h, "q_proj"), H, "self_attn.q_norm")                               # [B, H, T, hd]
        k = heads(proj(h, "k_proj"), Hkv, "self_attn.k_norm")                             # [B, Hkv, T, hd]
        v = proj(h, "v_proj").view(B, T, Hkv, hd).transpose(1, 2)                         # [B, Hkv, T, hd]
        q = q * cos + rotate_half(q) * sin                                                # [B, H, T, hd]
        k = k * cos + rotate_half(k) * sin                                                # [B, Hkv, T, hd]
        k = k.repeat_interleave(H // Hkv, dim=1)                                          # [B, H, T, hd]
        v = v.repeat_interleave(H // Hkv, dim=1)                                          # [B, H, T, hd]
        scores = softcap(q @ k.transpose(2, 3) * c.scaling, c.attn_softcap)               # [B, H, T, T]
        probs = F.softmax((scores + mask).float(), dim=-1).to(q.dtype)                    # [B, H, T, T]
        attn = (probs @ v).transpose(1, 2).reshape(B, T, H * hd)                          # [B, T, H*hd]
        out = proj(attn, "o_proj")                                                        # [B, T, D]
        if c.gemma:  # sandwich: post_attention_layernorm norms the branch output, the MLP has its own pair
            x = x + norm(out, self.post_attention_layernorm)
            h = norm(x, self.norms["pre_feedforward_layernorm"])
        else:
            x = x + out
            h = norm(x, self.post_attention_layernorm)                                    # [B, T, D]
        gate = proj(h, "gate_proj")                                                       # [B, T, F]
        act = (F.gelu(gate, approximate="tanh") if c.gemma else F.silu(gate)) * proj(h, "up_proj")
        out = proj(act, "down_proj")                                                      # [B, T, D]
        return x + (norm(out, self.norms["post_feedforward_layernorm"]) if c.gemma else out)


def attention_mask(T, window, device):
    """Additive causal mask [T, T]; a sliding layer's query t sees only t - window < s <= t."""
    pos = torch.arange(T, device=device)
    hidden = pos[None, :] > pos[:, None]                                                  # [T, T] future
    if window is not None:
        hidden = hidden | (pos[None, :] <= pos[:, None] - window)
    return torch.zeros(T, T, device=device).masked_fill(hidden, float("-inf"))


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
        self.register_buffer("inv_freq_sliding", rope_inv_freq(config, "sliding_attention"), persistent=False)
        self.linear = plain_linear

    def forward(self, input_ids):
        """input_ids [B, T] int64 -> logits [B, T, V] (float32)."""
        c = self.config
        B, T = input_ids.shape
        x = F.embedding(input_ids, self.embed_tokens)                                     # [B, T, D]
        if c.gemma:  # Gemma3TextScaledWordEmbedding: sqrt(D) in a float32 buffer cast to the weights' dtype
            x = x * torch.tensor(c.hidden_size ** 0.5).to(x.dtype)
        spans = {}
        for kind, inv_freq in (("full_attention", self.inv_freq), ("sliding_attention", self.inv_freq_sliding)):
            cos, sin = rope_tables(inv_freq, T, input_ids.device)                         # [T, hd] each
            window = c.sliding_window if kind == "sliding_attention" else None
            spans[kind] = (cos.to(x.dtype), sin.to(x.dtype), attention_mask(T, window, input_ids.device))
        for layer, kind in zip(self.layers, c.layer_types):
            x = layer(x, *spans[kind], self.linear)                                       # [B, T, D]
        x = rms_norm(x, self.norm, c.rms_norm_eps, c.gemma)                               # [B, T, D]
        head = self.embed_tokens if c.tie_word_embeddings else self.lm_head
        return softcap(F.linear(x, head).float(), c.final_softcap)                        # [B, T, V]


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


def extra_norms(config):
    """HF names of a layer's norms beyond input/post_attention (qk-norm; Gemma's feed-forward pair)."""
    return (["self_attn.q_norm", "self_attn.k_norm"] if config.qk_norm else []) + (
        ["pre_feedforward_layernorm", "post_feedforward_layernorm"] if config.gemma else [])


def named_weights(model):
    """{HF tensor name: Parameter} of every weight, as load_model took them (the inverse of its `take`)."""
    out = {"model.embed_tokens.weight": model.embed_tokens}
    for i, layer in enumerate(model.layers):
        out[f"model.layers.{i}.input_layernorm.weight"] = layer.input_layernorm
        out[f"model.layers.{i}.post_attention_layernorm.weight"] = layer.post_attention_layernorm
        for name in extra_norms(model.config):
            out[f"model.layers.{i}.{name}.weight"] = layer.norms[name.replace(".", "_")]
        for m in MODULES:
            out[f"{weight_name(i, m)}.weight"] = layer.weight[m]
            if m in layer.bias:
                out[f"{weight_name(i, m)}.bias"] = layer.bias[m]
    out["model.norm.weight"] = model.norm
    if not model.config.tie_word_embeddings:
        out["lm_head.weight"] = model.lm_head
    return out


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
        for name in extra_norms(c):
            layer.norms[name.replace(".", "_")] = take(f"model.layers.{i}.{name}.weight", [hd if "q_norm" in name or "k_norm" in name else D])
        for m in MODULES:
            layer.weight[m] = take(f"{weight_name(i, m)}.weight", shapes[m])
            if f"{weight_name(i, m)}.bias" in tensors:
                layer.bias[m] = take(f"{weight_name(i, m)}.bias", [shapes[m][0]])
    model.norm = take("model.norm.weight", [D])
    if not c.tie_word_embeddings:
        model.lm_head = take("lm_head.weight", [V, D])
    return model
