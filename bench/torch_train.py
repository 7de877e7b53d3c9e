"""Train the benchmark's networks with PyTorch, the way MOSAIC trains them.

Both sides do the same work per run: a seeded split of one CSV, a
multilayer perceptron of the same widths with PyTorch's default nn.Linear
initialisation, Adam with the given learning rate, minibatches of a shuffled
training set (the last one may be smaller), the training loss as the mean of
the minibatch losses, and the loss on the whole test set after every epoch.
torch.set_num_threads(1) keeps each process on one core, as a MOSAIC run is.

Two commands:

    torch_train.py mlp --csv FILE --hidden 4,4,4,4 --epochs 200 --batch 64 \
        --lr 1e-2 --train-prop 0.8 --seed 1
    torch_train.py cnn --csv digits.csv --epochs 25 --batch 64 --lr 1e-2 \
        --train-prop 0.7 --seed 1
    torch_train.py grid --pipelines DIR --data FILE --replicas 2 --workers 2 --seed 1

`mlp` trains one regression MLP (ReLU, MSELoss) and `cnn` the digits CNN
(CrossEntropyLoss); each prints a JSON line with its final losses, training
time and number of steps. `grid` trains every
pipeline JSON that `mosaic generate` wrote for the iris example, each
replica in a pool of worker processes, and prints a JSON line with the
mean final losses. After the first epoch of a run, both print
"epoch 1 seconds=S" on stderr, S being that epoch's time, so the caller can
time the start-up.
"""
import argparse
import csv
import json
import multiprocessing
import os
import sys
import time

import torch

ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "leaky_relu": torch.nn.LeakyReLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "gelu": torch.nn.GELU,
}


def read_csv(path):
    """Return the feature rows and the last column of a CSV with a header."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    x = [[float(v) for v in row[:-1]] for row in rows]
    y = [float(row[-1]) for row in rows]
    return x, y


def build_mlp(inputs, hidden, outputs, activation):
    layers = []
    width = inputs
    for h in hidden:
        layers += [torch.nn.Linear(width, h), ACTIVATIONS[activation]()]
        width = h
    layers.append(torch.nn.Linear(width, outputs))
    return torch.nn.Sequential(*layers)


def train(net, loss_fn, train_x, train_y, test_x, test_y, epochs, batch, lr):
    """Train net and return (final train loss, final test loss, seconds, steps)."""
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    n = train_x.shape[0]
    started = time.perf_counter()
    steps = 0
    train_loss = test_loss = float("nan")
    for epoch in range(1, epochs + 1):
        epoch_started = time.perf_counter()
        perm = torch.randperm(n)
        total, batches = 0.0, 0
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            opt.zero_grad()
            loss = loss_fn(net(train_x[idx]), train_y[idx])
            loss.backward()
            opt.step()
            total += loss.item()
            batches += 1
            steps += 1
        train_loss = total / batches
        with torch.no_grad():
            test_loss = loss_fn(net(test_x), test_y).item()
        if epoch == 1:
            seconds = time.perf_counter() - epoch_started
            print(f"epoch 1 seconds={seconds:.6f}", file=sys.stderr, flush=True)
    return train_loss, test_loss, time.perf_counter() - started, steps


def run_mlp(args):
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    x, y = read_csv(args.csv)
    x = torch.tensor(x, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    perm = torch.randperm(x.shape[0])
    cut = int(round(args.train_prop * x.shape[0]))
    train_idx, test_idx = perm[:cut], perm[cut:]

    hidden = [int(h) for h in args.hidden.split(",")]
    net = build_mlp(x.shape[1], hidden, 1, "relu")
    train_loss, test_loss, seconds, steps = train(
        net, torch.nn.MSELoss(), x[train_idx], y[train_idx], x[test_idx], y[test_idx],
        args.epochs, args.batch, args.lr)
    print(json.dumps({"train_loss": train_loss, "test_loss": test_loss,
                      "train_seconds": seconds, "steps": steps}))


def digits_cnn():
    """Return the digits CNN of the MOSAIC case: two 3×3 convolutions of 16
    and 32 channels with padding 1, each followed by ReLU and a 2×2 max
    pool, then a flatten, a dense layer of 64 units with ReLU and a dense
    output layer of 10 logits."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 2 * 2, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def run_cnn(args):
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    x, y = read_csv(args.csv)
    labels = [int(v) for v in y]
    generator = torch.Generator().manual_seed(args.seed)
    train_idx, test_idx = stratified_split(labels, args.train_prop, generator)
    x = torch.tensor(x, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16
    y = torch.tensor(labels, dtype=torch.long)
    train_loss, test_loss, seconds, steps = train(
        digits_cnn(), torch.nn.CrossEntropyLoss(), x[train_idx], y[train_idx], x[test_idx], y[test_idx],
        args.epochs, args.batch, args.lr)
    print(json.dumps({"train_loss": train_loss, "test_loss": test_loss,
                      "train_seconds": seconds, "steps": steps}))


def hidden_widths(stage, outputs):
    """Return the hidden widths of an mlp_brick or mlp_funnel stage, with the
    formula of MOSAIC's MLP.HiddenWidths."""
    width, length = int(stage["params"]["width"]), int(stage["params"]["length"])
    if stage["class"] != "mlp_funnel":
        return [width] * length
    return [max(width - (width - outputs) * i // length, outputs, 1) for i in range(length)]


def stratified_split(y, train_prop, generator):
    train_idx, test_idx = [], []
    for label in sorted(set(y)):
        rows = [i for i, v in enumerate(y) if v == label]
        order = torch.randperm(len(rows), generator=generator).tolist()
        cut = int(round(train_prop * len(rows)))
        train_idx += [rows[i] for i in order[:cut]]
        test_idx += [rows[i] for i in order[cut:]]
    return train_idx, test_idx


def run_pipeline(job):
    """Train one replica of one iris pipeline; the worker entry of `grid`."""
    path, data_path, replica, seed = job
    torch.set_num_threads(1)
    with open(path) as f:
        pipe = json.load(f)
    dataset = pipe["data"][0]["params"]
    process = pipe["process"]
    generator = torch.Generator().manual_seed(1000 * seed + replica)
    torch.manual_seed(int(pipe["id"][:8], 16) + 1000 * seed + replica)

    x, y = read_csv(data_path)
    labels = [int(v) for v in y]
    train_idx, test_idx = stratified_split(labels, float(dataset["train_prop"]), generator)
    x = torch.tensor(x, dtype=torch.float32)
    y = torch.tensor(labels, dtype=torch.long)
    mean = x[train_idx].mean(dim=0)
    std = x[train_idx].std(dim=0, unbiased=False).clamp_min(1e-12)
    x = (x - mean) / std

    outputs = len(set(labels))
    model = pipe["model"][0]
    net = build_mlp(x.shape[1], hidden_widths(model, outputs), outputs, model["params"]["activation"])
    train_loss, test_loss, seconds, steps = train(
        net, torch.nn.CrossEntropyLoss(), x[train_idx], y[train_idx], x[test_idx], y[test_idx],
        int(process["epochs"]), int(dataset["batch_size"]), float(process["lr"]))
    return train_loss, test_loss, steps


def run_grid(args):
    pipelines = sorted(os.path.join(args.pipelines, name) for name in os.listdir(args.pipelines)
                       if name.endswith(".json") and name != "index.json")
    jobs = [(p, args.data, r, args.seed) for p in pipelines for r in range(args.replicas)]
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        results = pool.map(run_pipeline, jobs, chunksize=1)
    print(json.dumps({
        "runs": len(results),
        "train_loss": sum(r[0] for r in results) / len(results),
        "test_loss": sum(r[1] for r in results) / len(results),
        "steps": sum(r[2] for r in results),
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    mlp = sub.add_parser("mlp", help="train one regression MLP")
    mlp.add_argument("--csv", required=True, help="CSV file, target in the last column")
    mlp.add_argument("--hidden", required=True, help="hidden widths, comma-separated")
    mlp.add_argument("--epochs", type=int, required=True)
    mlp.add_argument("--batch", type=int, default=64)
    mlp.add_argument("--lr", type=float, default=1e-2)
    mlp.add_argument("--train-prop", type=float, default=0.8)
    mlp.add_argument("--seed", type=int, default=1)
    cnn = sub.add_parser("cnn", help="train the digits CNN")
    cnn.add_argument("--csv", required=True, help="the digits CSV: 64 pixels from 0 to 16, then the class")
    cnn.add_argument("--epochs", type=int, required=True)
    cnn.add_argument("--batch", type=int, default=64)
    cnn.add_argument("--lr", type=float, default=1e-2)
    cnn.add_argument("--train-prop", type=float, default=0.7)
    cnn.add_argument("--seed", type=int, default=1)
    grid = sub.add_parser("grid", help="train every pipeline of the iris example")
    grid.add_argument("--pipelines", required=True, help="folder written by mosaic generate")
    grid.add_argument("--data", required=True, help="the iris CSV")
    grid.add_argument("--replicas", type=int, default=2)
    grid.add_argument("--workers", type=int, default=2)
    grid.add_argument("--seed", type=int, default=1, help="seed of the splits and initial weights")
    args = parser.parse_args()
    if args.command == "mlp":
        run_mlp(args)
    elif args.command == "cnn":
        run_cnn(args)
    else:
        run_grid(args)


if __name__ == "__main__":
    main()
