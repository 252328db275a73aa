"""Training path integrators: K same-shape networks at once, each with its own data, optimizer state and fate.

:func:`train_networks` trains the networks of several :class:`~gridbook.config.RunConfig` s that share
``shape_key()`` as one batched computation (:class:`~gridbook.nets.models.BatchedRecurrentNetworks`). Per network k:

* randomness from its own seed (:func:`~gridbook.nets.models.network_generator` streams ``init``, ``target``,
  ``trajectories``, ``dropout``), so network k trained in a batch equals network k trained alone;
* its own target encoder (``make_target``; training codes read from a table of it when ``TrainConfig.code_table``
  > 0, :mod:`gridbook.task.code_table`), its own trajectories every step (``sample_trajectories``; simulated
  :data:`WALK_CHUNK` batches at a time by ``sample_trajectory_batches``, which gives the same walks);
* loss = target loss (softmax cross-entropy or MSE, PAPER.md section 2) + ``weight_decay * ||U||^2`` (the recurrent
  matrix only); its own learning rate, weight decay and gradient clipping (global norm over its parameters);
* a non-finite loss or gradient marks it *diverged*: it is frozen (no further updates) while the others go on.

Optimizers (:class:`BatchedOptimizer`) are torch.optim's update rules and defaults (Adam betas (0.9, 0.999),
eps 1e-8; RMSprop alpha 0.99, eps 1e-8; Adagrad eps 1e-10; plain SGD), written over stacked parameters with a
per-network learning rate. History is recorded every ``eval_every`` steps (default: about 200 points per run), from
the training batch of that step: ``loss`` (the minimised objective, weight decay included) and ``error_cm`` (the
target's decoder vs the true position, mean over the batch) -- the forward pass is not run twice.

On the CPU, training runs under :func:`cpu_speedups`: malloc keeps freed memory for reuse (PyTorch re-allocates its
large buffers every step) and denormal floats flush to zero. Both are deterministic, so a seed still gives the same
network on every run.

``TrainConfig.precision = "bfloat16"`` (opt-in; default and paper float32) runs every matrix product of the forward
and backward passes with bfloat16 operands (:class:`~gridbook.nets.models.BatchedRecurrentNetworks` ``matmul_dtype``);
weights, optimizer state, hidden state, loss and gradients stay float32.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gridbook.config import RunConfig
from gridbook.errors import ConfigError, CorruptRunError
from gridbook.nets.checkpoints import TrainResult, load_checkpoint, save_checkpoint
from gridbook.nets.devices import cpu_speedups, pick_device
from gridbook.nets.models import BatchedRecurrentNetworks, network_generator
from gridbook.nets.optim import BatchedOptimizer, network_losses, scheduled_lr
from gridbook.task.code_table import training_code
from gridbook.task.stacked import StackedCodes
from gridbook.task.streams import StreamKeys, counter_walks, uniform_draws
from gridbook.task.targets import make_target
from gridbook.task.trajectories import Trajectories, sample_trajectory_batches

__all__ = ["CHECKPOINT_SECONDS", "HISTORY_POINTS", "HISTORY_TRAJECTORIES", "PROGRESS_SECONDS", "WALK_CHUNK",
           "train_networks"]

WALK_CHUNK = 16  # training batches of walks simulated at once per network (same walks, a fraction of the cost)
HISTORY_POINTS = 200  # history records per run when eval_every = 0
HISTORY_TRAJECTORIES = 50  # trajectories of the batch decoded for a history record (lookup decoding is costly)
CHECKPOINT_SECONDS = 600.0  # with a checkpoint file, save at least this often (and every 10% of the steps)
PROGRESS_SECONDS = 5.0  # on_progress is called at most this often (and at the first and last steps)


def _empty_history() -> dict[str, list]:
    return {"step": [], "loss": [], "error_cm": []}


# ---- the trainer --------------------------------------------------------------------------------------------------
def _check_batchable(configs: Sequence[RunConfig]) -> list[RunConfig]:
    configs = list(configs)
    if not configs:
        raise ConfigError("configs is empty; allowed values: one or more RunConfig sharing shape_key()")
    keys = [c.shape_key() for c in configs]
    for k, key in enumerate(keys):
        if key != keys[0]:
            raise ConfigError(f"configs[{k}].shape_key() = {key} differs from configs[0].shape_key() = {keys[0]}; "
                              "networks trained together must share shape_key() (group them with "
                              "RunConfig.shape_key())")
    return configs


def _comparable(config: RunConfig) -> dict[str, Any]:
    flat = config.to_flat()
    flat.pop("n_steps")
    return flat


class Trainer:
    """The training state of one batched job (networks, targets, generators, optimizer, history)."""

    def __init__(self, configs: list[RunConfig], device: torch.device, resume: TrainResult | None) -> None:
        self.configs, self.device, self.n_net = configs, device, len(configs)
        first = configs[0]
        self.seq_len, self.batch_size = first.task.seq_len, first.task.batch_size
        self.traj_gens = [network_generator(c.train.seed, "trajectories") for c in configs]
        self.dropout_gens = [network_generator(c.train.seed, "dropout") for c in configs]
        self.walks_used = 0  # batches of the current chunk of walks already used
        self.walks: list[list[Trajectories]] = [[] for _ in configs]  # per network, the chunk's batches
        if resume is None:
            self.targets = [make_target(c.target, c.task, network_generator(c.train.seed, "target"), device=device)
                            for c in configs]
            self.networks = BatchedRecurrentNetworks.from_configs(configs).to(device)
            self.history = [_empty_history() for _ in configs]
            self.diverged, self.step, self.seconds = [False] * self.n_net, 0, 0.0
        else:
            self.targets, self.networks = resume.targets, resume.networks
            self.history, self.diverged = resume.history, list(resume.diverged)
            self.step, self.seconds = resume.steps_done, resume.train_seconds
            for gen_t, gen_d, state in zip(self.traj_gens, self.dropout_gens, resume.generator_states, strict=True):
                gen_t.set_state(state["trajectories"])
                gen_d.set_state(state["dropout"])
            first_state = resume.generator_states[0] if resume.generator_states else {}
            if first_state.get("walks_used", 0):  # resume inside a chunk: draw it again, skip its used batches
                self.refill_walks(int(first_state["walk_chunk"]))
                self.walks_used = int(first_state["walks_used"])
        if not self.walks[0]:
            self.walk_states = [gen.get_state() for gen in self.traj_gens]  # trajectory generators at chunk start
        # what each network's training codes are read from: its target, or a table of it (TrainConfig.code_table)
        self.code_sources = [training_code(t, c.train.code_table) for t, c in zip(self.targets, configs, strict=True)]
        self.codes = StackedCodes(self.code_sources)  # every network's codes at once (place-cell kinds stacked)
        self.counter = first.train.streams == "counter"  # walks and dropout from counter streams on the device
        self.counter_walks: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # step -> its walks, drawn ahead
        if self.counter:
            seeds = [c.train.seed for c in configs]
            self.dropout_keys = StreamKeys(seeds, "dropout", device)
            self.walk_groups = [(configs[members[0]].task, torch.tensor(members, device=device),
                                 StreamKeys([seeds[k] for k in members], "trajectories", device))
                                for members in self.task_groups().values()]  # per task: its networks, their keys
        self.params = list(self.networks.parameters())
        self.optimizer = BatchedOptimizer([c.train.optimizer for c in configs], self.params)
        if resume is not None and resume.optimizer_state:
            self.optimizer.load_state_dict(resume.optimizer_state)
        self.lr = [c.train.lr for c in configs]
        decay = [c.train.weight_decay for c in configs]
        self.decay = torch.tensor(decay, device=device) if any(decay) else None  # (K,)
        clip = [c.train.grad_clip for c in configs]
        self.clip = torch.tensor(clip, device=device) if any(clip) else None  # (K,)

    def task_groups(self) -> dict[str, list[int]]:
        """The networks of each distinct task (walks of one task are simulated together)."""
        groups: dict[str, list[int]] = {}
        for k, config in enumerate(self.configs):
            groups.setdefault(repr(config.task), []).append(k)
        return groups

    def batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """velocity (K, T, B, 2), position (K, T, B, 2) m, codes (K, T + 1, B, Np) (code 0 = start position)."""
        k_net, n_t, n_b = self.n_net, self.seq_len, self.batch_size
        if self.counter:
            return self.counter_batch()
        velocity = torch.empty(k_net, n_t, n_b, 2, device=self.device)
        position = torch.empty(k_net, n_t, n_b, 2, device=self.device)
        if self.walks_used == len(self.walks[0]):
            self.refill_walks(max(1, min(WALK_CHUNK, self.configs[0].train.n_steps - self.step)))
        walks = [chunk[self.walks_used] for chunk in self.walks]  # this step's walk of each network
        starts = [torch.cat([walk.init_position[None], walk.position]) for walk in walks]  # (T + 1, B, 2) m each
        if k_net == 1:  # one network (a CPU job): its codes as encoded, without a copy into a stacked tensor
            codes = self.code_sources[0].encode(starts[0]).float()[None]  # (1, T + 1, B, Np)
        else:
            codes = self.codes.encode(torch.stack(starts))  # (K, T + 1, B, Np)
        for k, walk in enumerate(walks):
            velocity[k], position[k] = walk.velocity, walk.position
        self.walks_used += 1
        return velocity, position, codes

    def counter_batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`batch` from the counter streams: every network's walks simulated on the device at once, for
        :data:`WALK_CHUNK` steps ahead (:func:`~gridbook.task.streams.counter_walks`; a step's walks are the same
        whatever chunk draws them), and their exact codes stacked."""
        if self.step not in self.counter_walks:
            self.counter_walks = self.counter_chunk(range(self.step, max(self.step + 1, min(
                self.step + WALK_CHUNK, self.configs[0].train.n_steps))))
        velocity, starts = self.counter_walks.pop(self.step)  # (K, T, B, 2), (K, T + 1, B, 2) m
        return velocity, starts[:, 1:], self.codes.encode(starts)

    def counter_chunk(self, steps: range) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        """step -> (velocity (K, T, B, 2), positions (K, T + 1, B, 2) m, start first) for every step of ``steps``."""
        k_net, n_t, n_b, n_m = self.n_net, self.seq_len, self.batch_size, len(steps)
        starts = torch.empty(n_m, k_net, n_t + 1, n_b, 2, device=self.device)  # (M, K, T + 1, B, 2) m
        velocity = torch.empty(n_m, k_net, n_t, n_b, 2, device=self.device)  # (M, K, T, B, 2)
        for task, members, keys in self.walk_groups:
            walks = counter_walks(task, keys, list(steps), n_b, n_t)  # (T, Kg M B, .): network, then step
            n_g = len(keys)
            velocity.index_copy_(1, members, walks.velocity.view(n_t, n_g, n_m, n_b, 2).permute(2, 1, 0, 3, 4))
            path = torch.cat([walks.init_position[None], walks.position])  # (T + 1, Kg M B, 2) m
            starts.index_copy_(1, members, path.view(n_t + 1, n_g, n_m, n_b, 2).permute(2, 1, 0, 3, 4))
        return {step: (velocity[m], starts[m]) for m, step in enumerate(steps)}

    def dropout_masks(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """This step's dropout masks (input (K, B, 2), recurrent (K, B, Ng), None where no network drops): from each
        network's generator, or with counter streams drawn for all networks at once on the device."""
        net = self.networks
        if not self.counter:
            return net.dropout_masks(self.dropout_gens, self.batch_size)

        def masks(rates: list[float], width: int, sub: str) -> torch.Tensor | None:
            if not any(p > 0 for p in rates):
                return None
            rate = torch.tensor(rates, dtype=torch.float64, device=self.device)[:, None, None]  # (K, 1, 1)
            draws = uniform_draws(self.dropout_keys, sub, self.step, self.batch_size * width)  # (K, B width)
            keep = draws.view(self.n_net, self.batch_size, width) >= rate  # (K, B, width)
            return (keep / (1.0 - rate)).float()

        return (masks(net.input_dropout, net.n_inputs, "input_dropout"),
                masks(net.recurrent_dropout, net.n_hidden, "recurrent_dropout"))

    def refill_walks(self, n_batches: int) -> None:
        """Simulate the next ``n_batches`` training batches of walks of every network at once (networks with equal
        task settings together); each network's walks are those its own generator gives batch by batch."""
        self.walk_states = [gen.get_state() for gen in self.traj_gens]
        for members in self.task_groups().values():
            task = self.configs[members[0]].task
            chunks = sample_trajectory_batches(task, [self.traj_gens[k] for k in members], n_batches,
                                               device=self.device)
            for k, chunk in zip(members, chunks, strict=True):
                self.walks[k] = chunk
        self.walks_used = 0

    def train_step(self, record: bool) -> None:
        net = self.networks
        velocity, position, codes = self.batch()
        masks = self.dropout_masks()
        _, output = net(velocity, codes[:, 0], *masks)  # (K, T, B, Np)
        losses = network_losses(self.targets, output, codes[:, 1:])  # (K,)
        for param in self.params:
            param.grad = None
        losses.sum().backward()
        with torch.no_grad():
            if self.decay is not None:  # d/dU of weight_decay * ||U||^2
                net.recurrent_weight.grad.addcmul_(net.recurrent_weight, 2 * self.decay[:, None, None])
            grads = [p.grad for p in self.params]
            norms = torch.stack([g.reshape(self.n_net, -1).square().sum(1) for g in grads]).sum(0).sqrt()  # (K,)
            finite = (torch.isfinite(losses) & torch.isfinite(norms)).tolist()
            self.diverged = [d or not f for d, f in zip(self.diverged, finite, strict=True)]
            scale = None
            if self.clip is not None:
                scale = torch.where(self.clip > 0, (self.clip / (norms + 1e-6)).clamp(max=1.0), 1.0)  # (K,)
            if any(self.diverged):
                active = torch.tensor([not d for d in self.diverged], device=self.device)
                scale = torch.where(active, 1.0 if scale is None else scale, 0.0)
                grads = [torch.where(active.view(-1, *[1] * (g.dim() - 1)), g, 0.0) for g in grads]
            if scale is not None:
                grads = [g * scale.view(-1, *[1] * (g.dim() - 1)) for g in grads]
            rates = [scheduled_lr(rate, c.train.lr_final, self.step, c.train.n_steps)
                     for rate, c in zip(self.lr, self.configs, strict=True)]
            self.optimizer.step(grads, [0.0 if d else rate for d, rate in zip(self.diverged, rates, strict=True)])
        self.step += 1
        if record:
            self.record(losses.detach(), output.detach(), position)

    @torch.no_grad()
    def record(self, losses: torch.Tensor, output: torch.Tensor, position: torch.Tensor) -> None:
        total = losses
        if self.decay is not None:
            total = losses + self.decay * self.networks.recurrent_weight.square().sum((1, 2))
        for k, target in enumerate(self.targets):
            n_b = HISTORY_TRAJECTORIES
            error = (target.decode(output[k][:, :n_b]) - position[k][:, :n_b]).norm(dim=-1).mean() * 100  # cm
            self.history[k]["step"].append(self.step)
            self.history[k]["loss"].append(float(total[k]))
            self.history[k]["error_cm"].append(float(error))

    def result(self) -> TrainResult:
        chunk = {"walks_used": self.walks_used, "walk_chunk": len(self.walks[0])}
        states = [{"trajectories": walk_state, **chunk, "dropout": gen.get_state()}
                  for walk_state, gen in zip(self.walk_states, self.dropout_gens, strict=True)]
        return TrainResult(self.configs, self.networks, self.targets, self.history, list(self.diverged),
                           self.seconds, str(self.device), self.step, self.optimizer.state_dict(), states)

    def summary(self, n_steps: int) -> str:
        ok = [h for h, d in zip(self.history, self.diverged, strict=True) if not d and h["loss"]]
        loss = np.mean([h["loss"][-1] for h in ok]) if ok else float("nan")
        error = np.mean([h["error_cm"][-1] for h in ok]) if ok else float("nan")
        return (f"step {self.step}/{n_steps}: loss {loss:.4f}, error {error:.2f} cm "
                f"(mean over {len(ok)} networks), diverged {sum(self.diverged)}/{self.n_net}")


def train_networks(configs: Sequence[RunConfig], device: str | None = None, progress: bool | None = None,
                   checkpoint: str | Path | None = None, eval_every: int = 0,
                   on_progress: Callable[[int, int], Any] | None = None) -> TrainResult:
    """Train the networks of ``configs`` (which must share ``shape_key()``) together for ``n_steps``.

    ``device``: default :func:`pick_device`. ``progress``: a tqdm bar when True, or when None and stderr is a
    terminal; otherwise one summary line per ~10% of the steps on stdout. ``checkpoint``: a file to resume from
    (when it exists; its configs must equal ``configs`` apart from ``n_steps``) and to save to every ~10% of the
    steps, at least every :data:`CHECKPOINT_SECONDS`, and at the end. ``eval_every``: record history every this
    many steps (0: about :data:`HISTORY_POINTS` records), and at every 10% of the steps. ``on_progress(step,
    n_steps)``: called at the first step, then at most every :data:`PROGRESS_SECONDS`, and at the last step (a sweep
    records it as the job's heartbeat).
    """
    configs = _check_batchable(configs)
    dev = pick_device(device)
    n_steps = configs[0].train.n_steps
    resume = None
    if checkpoint is not None and Path(checkpoint).exists():
        try:
            resume = load_checkpoint(checkpoint, device=dev)
        except Exception as err:  # torch raises many types for a damaged file
            raise CorruptRunError(f"checkpoint {checkpoint} does not load ({str(err).splitlines()[0][:160]}); "
                                  "delete it to train from the start") from None
        for k, (old, new) in enumerate(zip(resume.configs, configs, strict=False)):
            diff = sorted(key for key, value in _comparable(new).items() if _comparable(old)[key] != value)
            if diff:
                raise ConfigError(f"checkpoint {checkpoint} holds different configs: network {k} differs in "
                                  f"{', '.join(diff)}; use another checkpoint path or delete it")
        if len(resume.configs) != len(configs):
            raise ConfigError(f"checkpoint {checkpoint} holds {len(resume.configs)} networks, not {len(configs)}")
        if resume.steps_done > n_steps:
            raise ConfigError(f"n_steps={n_steps} is invalid for checkpoint {checkpoint}, which has already "
                              f"trained {resume.steps_done} steps; allowed values: >= {resume.steps_done}")
        resume.configs = configs
    trainer = Trainer(configs, dev, resume)
    every = eval_every if eval_every > 0 else max(1, n_steps // HISTORY_POINTS)
    milestones = {math.ceil(n_steps * i / 10) for i in range(1, 11)}
    use_bar = progress if progress is not None else sys.stderr.isatty()
    bar = None
    if use_bar:
        from tqdm import tqdm

        bar = tqdm(total=n_steps, initial=trainer.step, desc=f"training {len(configs)} networks", unit="step")
    start = saved_at = time.perf_counter()
    reported_at = -math.inf
    try:
        with cpu_speedups(dev):
            while trainer.step < n_steps:
                step = trainer.step + 1
                trainer.train_step(record=step % every == 0 or step in milestones)
                if bar is not None:
                    bar.update(1)
                if on_progress is not None and (time.perf_counter() - reported_at > PROGRESS_SECONDS
                                                or step == n_steps):
                    on_progress(step, n_steps)
                    reported_at = time.perf_counter()
                if step in milestones:
                    if bar is not None:
                        bar.set_postfix_str(trainer.summary(n_steps).split(": ", 1)[1])
                    else:
                        print(trainer.summary(n_steps), flush=True)
                due = step in milestones or time.perf_counter() - saved_at > CHECKPOINT_SECONDS
                if checkpoint is not None and step < n_steps and due:
                    trainer.seconds += time.perf_counter() - start
                    save_checkpoint(trainer.result(), checkpoint)
                    start = saved_at = time.perf_counter()
    finally:
        trainer.seconds += time.perf_counter() - start
        if bar is not None:
            bar.close()
    result = trainer.result()
    if checkpoint is not None:
        save_checkpoint(result, checkpoint)
    return result


