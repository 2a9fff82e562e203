"""Train the studio's run (S2FT, or its LoRA / full fine-tuning baselines) on PyTorch: one process,
torchrun on many GPUs, or many machines.

    python3 train.py                                          # one GPU (or the CPU)
    torchrun -r 1 -t 1 --nproc_per_node N train.py            # N processes on one machine
    torchrun -r 1 -t 1 --nnodes M --node_rank R --nproc_per_node N \
        --rdzv_backend c10d --rdzv_endpoint HOST0:PORT --rdzv_id ID train.py   # on each of M machines

(README.md: the exact commands, tested as written.)

Settings come from run.json, and selection.json (S2FT) or lora_init/ (LoRA), written by the studio's
export-recipe; flags override a few of them. One update takes `batch_size` rows from the studio's seeded data order and
splits them over the processes (and `grad_accum` micro-batches each). The loss is the mean
next-token cross-entropy over ALL counted positions of those rows: each process backpropagates
its sum of token losses divided by the global count (times the world size, because DDP averages
gradients), so N processes compute the gradient one process would, up to float summation order.
"""
import argparse
import contextlib
import json
import math
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from adapter import write_peft_lora, write_s2ft_adapter  # noqa: E402
from data import IGNORE_INDEX, BatchStream, DataError, load_examples  # noqa: E402
from full import FullLM  # noqa: E402
from lora import LoraError, LoraLM  # noqa: E402
from model import CheckpointError, load_model  # noqa: E402
from s2ft import S2ftLM, SelectionError, read_selection  # noqa: E402
from safetensors_io import SafetensorsError  # noqa: E402


class RunError(ValueError):
    """Settings that cannot run; the message says which and why."""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="HF checkpoint directory (default: run.json model.path)")
    p.add_argument("--out", help="what to write (default: run.json out): the S2FT adapter file, the LoRA "
                                 "adapter directory (PEFT) or the full fine-tuning checkpoint directory")
    p.add_argument("--peft-out", help="S2FT: also write the PEFT LoRA form into this directory")
    p.add_argument("--steps", type=int, help="override the number of updates")
    p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
                   help="dtype of the frozen base weights and activations (deltas stay float32)")
    p.add_argument("--metrics", help="write the per-update losses as JSON here (rank 0)")
    return p.parse_args()


def resolve(path, base):
    return path if os.path.isabs(path) else os.path.join(base, path)


def learning_rate(step, peak, warmup, total, kind):
    """Same as src/core/train/schedule.ts (HF get_*_schedule_with_warmup); step counts from 0."""
    if step < warmup:
        return peak * step / warmup
    if kind == "constant":
        return peak
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if kind == "linear":
        return peak * (1 - progress)
    return peak * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(params, settings, lr):
    """torch's AdamW (decoupled decay, explicit eps) and SGD are the studio's optimizer.ts formulas."""
    if settings["kind"] == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(settings["beta1"], settings["beta2"]),
                                 eps=settings["epsilon"], weight_decay=settings["weightDecay"])
    if settings["kind"] == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=settings["momentum"], weight_decay=settings["weightDecay"])
    raise RunError(f"run.json: training.optimizer.kind {settings['kind']!r} is not adamw or sgd")


def setup_distributed():
    """(rank, world size, device). torchrun sets WORLD_SIZE/RANK/LOCAL_RANK; plain python is rank 0 of 1.
    A GPU when there is one (CUDA_VISIBLE_DEVICES= hides them), else the CPU."""
    use_cuda = torch.cuda.is_available()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return int(os.environ.get("RANK", "0")), world, device


def wrap(model, world, device):
    """DDP over all processes: every process holds the whole model; only the trained parameters' gradients
    are all-reduced (S2FT's deltas, LoRA's pairs, or every weight under full fine-tuning; README: why
    data parallel is the engine for S2FT)."""
    if world == 1:
        return model
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def main():
    args = parse_args()
    with open(os.path.join(HERE, "run.json")) as f:
        run = json.load(f)
    training = run["training"]
    steps = args.steps or training["steps"]
    rank, world, device = setup_distributed()
    log = print if rank == 0 else (lambda *a, **k: None)
    torch.manual_seed(training["seed"])

    model_dir = args.model or resolve(run["model"]["path"], HERE)
    model = load_model(model_dir, dtype=getattr(torch, args.dtype)).to(device)
    config = model.config
    method = training["method"]
    out = args.out or resolve(run["out"], HERE)
    lm = build(method, model, run, args, out, model_dir)
    trainable = [p for p in lm.parameters() if p.requires_grad]

    data = run["data"]
    examples = load_examples(resolve(data["path"], HERE), config.vocab_size)
    seq_len = training["seq_len"]
    stream = BatchStream(examples, seq_len, training["seed"], data["pack"], data["eos_token_id"])

    B, accum = training["batch_size"], training["grad_accum"]
    if B % (world * accum) != 0:
        raise RunError(f"run.json: batch_size {B} must be a multiple of processes x grad_accum = {world} x {accum}")
    micro = B // (world * accum)
    ddp = wrap(lm, world, device)
    optimizer = make_optimizer(trainable, training["optimizer"], training["lr"])
    params = sum(p.numel() for p in trainable)
    log(f"{method}: {model_dir} ({config.model_type}, {args.dtype}, {device.type}): {params:,} trainable parameters; {len(stream.units)} units of <= {seq_len} tokens; "
        f"{steps} updates of {B} rows on {world} process(es), {micro} rows x {accum} micro-batches each")

    losses, step_cpu = [], []
    for step in range(steps):
        start, cpu_start = time.time(), time.process_time()
        ids, labels = stream.next_rows(B)                                     # every rank draws the same rows
        ids = torch.tensor(ids, device=device)                                # [B, T]
        labels = torch.tensor(labels, device=device)                          # [B, T]
        count = max(1, int((labels != IGNORE_INDEX).sum()))                   # counted positions of the update
        mine = slice(rank * B // world, (rank + 1) * B // world)
        local_sum = torch.zeros((), device=device)
        for i in range(accum):
            rows = slice(mine.start + i * micro, mine.start + (i + 1) * micro)
            logits = ddp(ids[rows])                                           # [b, T, V]
            token_sum = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[rows].reshape(-1),
                                        ignore_index=IGNORE_INDEX, reduction="sum")
            last = i == accum - 1
            sync = ddp.no_sync() if world > 1 and not last else contextlib.nullcontext()
            with sync:
                (token_sum * (world / count)).backward()                      # DDP divides by world
            local_sum += token_sum.detach()
        if world > 1:
            dist.all_reduce(local_sum)
        loss = float(local_sum) / count
        grad_norm = float(clip(trainable, training["grad_clip"]))
        if not (math.isfinite(loss) and math.isfinite(grad_norm)):
            raise FloatingPointError(f"update {step + 1}: loss {loss} / gradient norm {grad_norm} is not finite; "
                                     "lower the learning rate")
        lr = learning_rate(step, training["lr"], training["warmup"], steps, training["schedule"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss)
        step_cpu.append(time.process_time() - cpu_start)                      # this process's CPU time
        tokens = B * seq_len / max(time.time() - start, 1e-9)
        log(f"step {step + 1}: loss {loss:.4f}  lr {lr:.2e}  grad norm {grad_norm:.3f}  {tokens:.0f} tok/s")

    if rank == 0:
        host = socket.gethostname()
        if method == "s2ft":
            blocks = lm.s2ft.blocks()
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
            record = dict(training, steps=steps, processes=world, engine="pytorch")
            write_s2ft_adapter(out, blocks, config, run["model"], run["selection"]["info"], record)
            log(f"wrote S2FT adapter {out} on {host}")
            if args.peft_out:
                write_peft_lora(args.peft_out, blocks, config, run["model"]["name"])
                log(f"wrote PEFT LoRA adapter {args.peft_out}")
        elif method == "lora":
            lm.lora.write(out)
            log(f"wrote LoRA adapter (PEFT) {out} on {host}")
        else:
            lm.write(out, model_dir)
            log(f"wrote the fine-tuned checkpoint {out} on {host}")
        if args.metrics:
            with open(args.metrics, "w") as f:
                json.dump({"losses": losses, "step_cpu_seconds": step_cpu, "processes": world}, f)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def build(method, model, run, args, out, model_dir):
    """The module DDP wraps: the frozen model with the run's method applied; its trainable
    parameters are the method's (S2FT's deltas, LoRA's pairs, or every weight)."""
    if args.peft_out and method != "s2ft":
        raise RunError(f"--peft-out is for S2FT runs; this {method} run writes {out}")
    if method == "s2ft":
        return S2ftLM(model, read_selection(resolve(run["selection"]["path"], HERE), model.config))
    if method == "lora":
        return LoraLM(model, resolve(run["lora"]["init"], HERE))
    if method == "full":
        if args.dtype != "float32":
            raise RunError("full fine-tuning trains float32 weights; --dtype bfloat16 is for S2FT and LoRA runs")
        if os.path.realpath(out) == os.path.realpath(model_dir):
            raise RunError(f"--out {out} is the base model's directory; it would be overwritten")
        return FullLM(model)
    raise RunError(f"run.json: training.method {method!r} is not s2ft, lora or full")


def clip(trainable, max_norm):
    """Global gradient norm, clipped to max_norm when > 0 (torch's rule, as the studio's trainer)."""
    return torch.nn.utils.clip_grad_norm_(trainable, max_norm if max_norm > 0 else float("inf"))


if __name__ == "__main__":
    try:
        main()
    except (RunError, CheckpointError, SelectionError, LoraError, SafetensorsError, DataError, FloatingPointError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
