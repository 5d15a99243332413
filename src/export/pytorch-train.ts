/**
 * train.py of the PyTorch export: the train block run by PyTorch, in one process or several
 * (DistributedDataParallel over gloo on CPU, nccl on GPUs; started by its own `--workers N` or
 * by torchrun). The loss and metrics are model.py's (nnx's formulas, from the IR); the
 * optimizers and schedules are nnx's, written out below as docs/numerics.md gives them, not
 * torch.optim's (whose Adam, RMSprop and Adagrad place ε differently, and whose Adagrad has no
 * initial accumulator). The data is the train block's, as nnxc prepared it (data/*.npy).
 */
import { inputsOf } from '../ir/graph.js';
import { pyName } from './pytorch-model.js';
import type { ExportCompiled, ExportModel, ExportTrain } from './weights.js';

export function trainPy(
  model: ExportModel,
  compiled: ExportCompiled,
  train: ExportTrain,
  source: string,
): string {
  const targets = inputsOf(compiled.steps.train, 'target').map((n) => n.params.name);
  const config = {
    model: model.name,
    source,
    dataset: train.data,
    batch: train.batch,
    epochs: train.epochs,
    validation_split: train.validationSplit,
    optimizer: train.optimizer,
    metrics: train.metrics,
  };
  const slots = [...model.inputs.map((i) => i.name), ...targets];
  return `"""Trains ${model.name} as the train block of ${source} says, with PyTorch.

  python3 train.py                    # one process
  python3 train.py --workers 2        # DistributedDataParallel over 2 processes (gloo on CPU)
  torchrun --nproc_per_node 2 --redirects 1 --tee 1 train.py   # the same, started by torchrun

Starts from weights.safetensors (nnx's names and layouts: the model's seeded initial weights,
or those nnxc export --weights was given) and writes trained.safetensors, which
\`nnxc evaluate ${source} --weights trained.safetensors\` reads. checkpoint.pt after each epoch
(--resume continues from it). The batch is the global one: each of N processes takes batch/N
samples of it, and the loss is weighted so the gradient is the global batch's mean, as in
one process.
"""
import argparse
import json
import math
import os
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import model as exported  # noqa: E402

TRAIN = json.loads(${JSON.stringify(JSON.stringify(config))})
# The data slots, in the order model.forward takes them: the inputs, then the targets.
SLOTS = ${JSON.stringify(slots)}
FILES = ${JSON.stringify(slots.map(pyName))}


class NnxOptimizer(torch.optim.Optimizer):
    """nnx's optimizers (docs/numerics.md), t counting steps from 1:
    sgd:     v = mu*v + g; p -= lr*v  (nesterov: p -= lr*(g + mu*v)); without momentum p -= lr*g
    adam:    m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr*(m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
             (AdamW adds weight_decay*p to that step)
    rmsprop: v = rho*v + (1-rho)*g^2; p -= lr*g/(sqrt(v) + eps)
    adagrad: a = a + g^2; p -= lr*g/(sqrt(a + initial_accumulator) + eps)
    With epsilonPlacement 'keras', eps moves as Keras places it:
    adam:    p -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v) + eps)
    rmsprop: p -= lr*g/sqrt(v + eps)
    adagrad: p -= lr*g/sqrt(a + initial_accumulator + eps)
    and a schedule lr(t) as Keras': step, exponential (staircase or not) or cosine."""

    def __init__(self, params, config):
        super().__init__(params, {'lr': config['lr']})
        self.config = config
        self.state['t'] = 0

    def learning_rate(self, t):
        c, s = self.config, self.config.get('schedule')
        lr = c['lr']
        if s is None:
            return lr
        step = t - 1
        if s['kind'] == 'step':
            return lr * math.exp(math.floor(step / s['stepSize']) * math.log(s['gamma']))
        if s['kind'] == 'exponential':
            k = step / s['decaySteps']
            return lr * math.exp((math.floor(k) if s['staircase'] else k) * math.log(s['decayRate']))
        progress = min(step, s['decaySteps']) / s['decaySteps']
        return lr * (s['alpha'] + (1 - s['alpha']) * 0.5 * (1 + math.cos(progress * math.pi)))

    @torch.no_grad()
    def step(self, closure=None):
        self.state['t'] += 1
        t = self.state['t']
        c = self.config
        lr = self.learning_rate(t)
        keras = c.get('epsilonPlacement') == 'keras'

        def root(x):  # RMSprop's and Adagrad's denominator
            return torch.sqrt(x + c['epsilon']) if keras else torch.sqrt(x) + c['epsilon']

        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                g, state = p.grad, self.state[p]
                kind = c['kind']
                if kind == 'sgd':
                    if c['momentum'] == 0:
                        p.sub_(lr * g)
                        continue
                    v = state.setdefault('velocity', torch.zeros_like(p))
                    v.mul_(c['momentum']).add_(g)
                    p.sub_(lr * ((g + c['momentum'] * v) if c['nesterov'] else v))
                elif kind == 'adam':
                    m = state.setdefault('m', torch.zeros_like(p))
                    v = state.setdefault('v', torch.zeros_like(p))
                    m.copy_(c['beta1'] * m + (1 - c['beta1']) * g)
                    v.copy_(c['beta2'] * v + (1 - c['beta2']) * (g * g))
                    c1 = 1 - math.exp(t * math.log(c['beta1'])) if c['beta1'] > 0 else 1.0
                    c2 = 1 - math.exp(t * math.log(c['beta2'])) if c['beta2'] > 0 else 1.0
                    if keras:
                        update = (math.sqrt(c2) / c1) * (m / (torch.sqrt(v) + c['epsilon']))
                    else:
                        update = (m / c1) / (torch.sqrt(v / c2) + c['epsilon'])
                    if c.get('weightDecay', 0):
                        update = update + c['weightDecay'] * p
                    p.sub_(lr * update)
                elif kind == 'rmsprop':
                    v = state.setdefault('velocity', torch.zeros_like(p))
                    v.copy_(c['rho'] * v + (1 - c['rho']) * (g * g))
                    p.sub_(lr * (g / root(v)))
                elif kind == 'adagrad':
                    a = state.setdefault('accumulator', torch.zeros_like(p))
                    a.add_(g * g)
                    p.sub_(lr * (g / root(a + c['initialAccumulator'])))
                else:
                    raise ValueError(f'unknown optimizer {kind!r}')


def make_optimizer(module, lr=None):
    config = dict(TRAIN['optimizer'])
    if lr is not None:
        config['lr'] = lr
    return NnxOptimizer([p for p in module.parameters() if p.requires_grad], config)


def train_step(module, optimizer, batch, weight=1.0):
    """One step on batch (inputs, targets, mask); weight scales this process's loss (see main)."""
    optimizer.zero_grad(set_to_none=True)
    terms = module(*batch, mode='train')
    (terms['loss'] * weight).backward()
    optimizer.step()
    return terms


class ShardSampler(DistributedSampler):
    """DistributedSampler (the same seeded permutation in every process; process r takes
    positions r, r+N, …, so each global batch is one run of batch consecutive positions, as in
    one process), except where the samples do not divide among the N processes: it pads the
    permutation with -1, a masked-out sample, where DistributedSampler repeats samples, so every
    sample counts once per epoch, as in one process."""

    def __iter__(self):
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.dataset), generator=g).tolist()
        order += [-1] * (self.total_size - len(order))
        return iter(order[self.rank:self.total_size:self.num_replicas])


class Padded(torch.utils.data.Dataset):
    """The split's samples with a mask value (1); index -1 is a padding sample of zeros, mask 0."""

    def __init__(self, tensors):
        self.tensors = tensors

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, i):
        if i < 0:
            return (*[torch.zeros_like(t[0]) for t in self.tensors], torch.tensor(0.0))
        return (*[t[i] for t in self.tensors], torch.tensor(1.0))


def load_split(split, dtype):
    """data/<split>/<slot>.npy as tensors, or None when the split is not there."""
    folder = os.path.join(HERE, 'data', split)
    if not os.path.isdir(folder):
        return None
    return [torch.from_numpy(np.load(os.path.join(folder, f + '.npy'))).to(dtype) for f in FILES]


def evaluate(module, tensors, batch):
    """Mean loss and metrics over a split, in inference mode (one process)."""
    module.eval()
    sums, count = {}, 0.0
    with torch.no_grad():
        for start in range(0, tensors[0].shape[0], batch):
            part = [t[start:start + batch] for t in tensors]
            mask = torch.ones(part[0].shape[0], dtype=part[0].dtype)
            terms = module(*part, mask, mode='evaluate')
            n = float(mask.sum())
            sums['loss'] = sums.get('loss', 0.0) + float(terms['loss']) * n
            for m in exported.METRICS:
                sums[m] = sums.get(m, 0.0) + float(terms[m])
            count += n
    module.train()
    return {k: v / count for k, v in sums.items()}


def run(rank, world, args):
    distributed = world > 1
    if distributed and not torch.cuda.is_available() and 'OMP_NUM_THREADS' not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))  # the cores shared, not oversubscribed
    if distributed and not dist.is_initialized():
        backend = 'nccl' if torch.cuda.is_available() else 'gloo'
        dist.init_process_group(backend, rank=rank, world_size=world)
    device = torch.device(f'cuda:{rank % torch.cuda.device_count()}') if torch.cuda.is_available() else torch.device('cpu')
    dtype = torch.float64 if args.float64 else torch.float32
    torch.manual_seed(args.seed + rank)  # dropout masks: torch's generator, not nnx's hash
    net = getattr(exported, TRAIN['model'])().to(dtype)
    exported.load_nnx_weights(net, args.weights)
    net.to(device)
    optimizer = make_optimizer(net, args.lr)
    first_epoch = 0
    if args.resume and os.path.exists(args.checkpoint):
        saved = torch.load(args.checkpoint, map_location=device)
        net.load_state_dict(saved['model'])
        optimizer.load_state_dict(saved['optimizer'])
        first_epoch = saved['epoch']
    module = DistributedDataParallel(net) if distributed else net
    train = load_split('train', dtype)
    if train is None:
        raise SystemExit(f"train.py: no data in {os.path.join(HERE, 'data', 'train')}: export again to write it")
    validation, test = load_split('validation', dtype), load_split('test', dtype)
    batch = args.batch
    if batch % world:
        raise SystemExit(f'train.py: the batch ({batch}) must divide among the {world} processes')
    samples = Padded(train)
    sampler = ShardSampler(samples, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(samples, batch_size=batch // world, sampler=sampler)
    steps, started = 0, time.time()
    for epoch in range(first_epoch, args.epochs):
        sampler.set_epoch(epoch)
        sums, count = {}, 0.0
        for part in loader:
            part = [t.to(device) for t in part]
            mask = part.pop().to(dtype)
            local = mask.sum()
            total = local.clone()
            if distributed:
                dist.all_reduce(total)
            # DDP averages gradients over processes: weighting each process's mean loss by its share
            # of the global batch makes that average the global batch's mean gradient.
            terms = train_step(module, optimizer, [*part, mask], float(local * world / total))
            steps += 1
            sums['loss'] = sums.get('loss', 0.0) + float(terms['loss'].detach()) * float(local)
            for m in exported.METRICS:
                sums[m] = sums.get(m, 0.0) + float(terms[m])
            count += float(local)
            if args.log_steps and rank == 0:
                print(json.dumps({'step': steps, 'loss': float(terms['loss'].detach())}), flush=True)
            if args.steps and steps >= args.steps:
                break
        reduced = torch.tensor([count] + [sums[k] for k in sorted(sums)], dtype=torch.float64)
        if distributed:
            dist.all_reduce(reduced)
        report = {k: float(v) / float(reduced[0]) for k, v in zip(sorted(sums), reduced[1:])}
        if rank == 0:
            if validation is not None:
                report.update({f'val_{k}': v for k, v in evaluate(net, [t.to(device) for t in validation], batch).items()})
            print(json.dumps({'epoch': epoch + 1, **report, 'seconds': round(time.time() - started, 2)}), flush=True)
            torch.save({'model': net.state_dict(), 'optimizer': optimizer.state_dict(), 'epoch': epoch + 1}, args.checkpoint)
        if args.steps and steps >= args.steps:
            break
    if rank == 0:
        if test is not None:
            print(json.dumps({'test': evaluate(net, [t.to(device) for t in test], batch)}), flush=True)
        exported.save_nnx_weights(net, args.out)
    if args.rank_weights:
        exported.save_nnx_weights(net, f'{args.rank_weights}.{rank}.safetensors')
    if distributed:
        dist.destroy_process_group()


def spawned(rank, world, args):
    run(rank, world, args)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--epochs', type=int, default=TRAIN['epochs'])
    p.add_argument('--batch', type=int, default=TRAIN['batch'], help='the global batch')
    p.add_argument('--lr', type=float, default=None)
    p.add_argument('--seed', type=int, default=0, help='shuffle and dropout seed')
    p.add_argument('--workers', type=int, default=1, help='processes to start (torch.multiprocessing)')
    p.add_argument('--weights', default=os.path.join(HERE, 'weights.safetensors'))
    p.add_argument('--out', default=os.path.join(HERE, 'trained.safetensors'))
    p.add_argument('--checkpoint', default=os.path.join(HERE, 'checkpoint.pt'))
    p.add_argument('--resume', action='store_true')
    p.add_argument('--steps', type=int, default=0, help='stop after this many steps (0: all epochs)')
    p.add_argument('--log-steps', action='store_true', help="print each step's loss")
    p.add_argument('--float64', action='store_true')
    p.add_argument('--rank-weights', default='', help='also write each process’s weights as PREFIX.RANK.safetensors')
    args = p.parse_args(argv)
    if 'RANK' in os.environ and 'WORLD_SIZE' in os.environ:  # started by torchrun
        dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
        run(dist.get_rank(), dist.get_world_size(), args)
    elif args.workers > 1:
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
        os.environ.setdefault('MASTER_PORT', str(free_port()))
        mp.spawn(spawned, args=(args.workers, args), nprocs=args.workers, join=True)
    else:
        run(0, 1, args)


if __name__ == '__main__':
    main()
`;
}
