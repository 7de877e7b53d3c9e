"""Write golden_cnn.json: losses of a small CNN trained with PyTorch's Adam.

The network is Conv2d(1,3,k3,s1,p1), ReLU, MaxPool2d(2), Conv2d(3,4,k3,s2,p1),
Tanh, Flatten, Linear(16,3) on 1x6x6 samples, with fixed weights, trained for
a few epochs on 8 fixed samples in minibatches of 4 taken in order (no
shuffling), once per loss. For NLLLoss a LogSoftmax follows the last layer.
engine's golden test rebuilds the same network from the JSON and compares
every minibatch loss and the final weights.

Run with /usr/bin/python3 (Debian's python3-torch, PyTorch 1.13):
    /usr/bin/python3 golden_cnn.py > golden_cnn.json
"""
import json
import math

import torch

torch.set_num_threads(1)

IN_SHAPE = (1, 6, 6)
CONVS = [  # in channels, out channels, kernel, stride, padding
    (1, 3, 3, 1, 1),
    (3, 4, 3, 2, 1),
]
LINEAR = (16, 3)
BATCH = 4
EPOCHS = 3
LR = 0.02
N = 8

X = [[[[math.sin(0.7 * s + 0.5 * i - 0.3 * j) + 0.1 * ((i * j + s) % 3)
        for j in range(6)] for i in range(6)]] for s in range(N)]
FLOAT_TARGET = [[0.5 * math.cos(s + 2 * k) for k in range(3)] for s in range(N)]
CLASSES = [0, 2, 1, 1, 0, 2, 1, 0]
LOSSES = ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCEWithLogitsLoss",
          "CrossEntropyLoss", "NLLLoss"]


def fixed(shape, phase):
    """Return a nested list of the given shape: smooth functions of the index."""
    count = math.prod(shape)
    flat = [0.4 * math.sin(1.7 * k + phase) for k in range(count)]
    return torch.tensor(flat, dtype=torch.float32).reshape(shape).tolist()


def initial_weights():
    weights = []
    for layer, (cin, cout, k, _, _) in enumerate(CONVS):
        weights.append({"weight": fixed((cout, cin, k, k), layer),
                        "bias": fixed((cout,), layer + 0.5)})
    weights.append({"weight": fixed((LINEAR[1], LINEAR[0]), 2),
                    "bias": fixed((LINEAR[1],), 2.5)})
    return weights


def build(weights, loss_name):
    (c1, c2), lin = CONVS, LINEAR
    modules = [torch.nn.Conv2d(c1[0], c1[1], c1[2], stride=c1[3], padding=c1[4]),
               torch.nn.ReLU(), torch.nn.MaxPool2d(2),
               torch.nn.Conv2d(c2[0], c2[1], c2[2], stride=c2[3], padding=c2[4]),
               torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(*lin)]
    layers = [m for m in modules if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        for layer, w in zip(layers, weights):
            layer.weight.copy_(torch.tensor(w["weight"]))
            layer.bias.copy_(torch.tensor(w["bias"]))
    if loss_name == "NLLLoss":
        modules.append(torch.nn.LogSoftmax(dim=1))
    return torch.nn.Sequential(*modules), layers


def targets(loss_name):
    if loss_name in ("CrossEntropyLoss", "NLLLoss"):
        return torch.tensor(CLASSES, dtype=torch.long)
    if loss_name == "BCEWithLogitsLoss":
        return torch.nn.functional.one_hot(torch.tensor(CLASSES), 3).float()
    return torch.tensor(FLOAT_TARGET, dtype=torch.float32)


def train(loss_name, weights):
    net, layers = build(weights, loss_name)
    loss_fn = getattr(torch.nn, loss_name)()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    x = torch.tensor(X, dtype=torch.float32)
    y = targets(loss_name)
    losses = []
    for _ in range(EPOCHS):
        for start in range(0, N, BATCH):
            opt.zero_grad()
            loss = loss_fn(net(x[start:start + BATCH]), y[start:start + BATCH])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    final = [[p.detach().reshape(-1).tolist() for p in layer.parameters()] for layer in layers]
    return {"loss": loss_name, "step_losses": losses, "final_params": final}


def main():
    weights = initial_weights()
    doc = {
        "torch_version": torch.__version__,
        "in_shape": IN_SHAPE,
        "convs": CONVS,
        "linear": LINEAR,
        "batch": BATCH,
        "epochs": EPOCHS,
        "lr": LR,
        "x": [[v for channel in s for row in channel for v in row] for s in X],
        "float_target": FLOAT_TARGET,
        "classes": CLASSES,
        "weights": [{"weight": torch.tensor(w["weight"]).reshape(-1).tolist(),
                     "bias": w["bias"]} for w in weights],
        "cases": [train(name, weights) for name in LOSSES],
    }
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
