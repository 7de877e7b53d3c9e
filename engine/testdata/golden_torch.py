"""Write golden_torch.json: losses of a tiny MLP trained with PyTorch's Adam.

The network is Linear(2,4), Tanh, Linear(4,4), Tanh, Linear(4,3) with fixed
weights, trained for a few epochs on 8 fixed samples in minibatches of 4 taken
in order (no shuffling), once with MSELoss and once with CrossEntropyLoss.
engine's golden test rebuilds the same network from the JSON and compares
every minibatch loss and the final weights.

Run with /usr/bin/python3 (Debian's python3-torch, PyTorch 1.13):
    /usr/bin/python3 golden_torch.py > golden_torch.json
"""
import json
import math

import torch

torch.set_num_threads(1)

SIZES = [(2, 4), (4, 4), (4, 3)]
BATCH = 4
EPOCHS = 5
LR = 0.05

X = [[0.5, -1.0], [1.5, 0.25], [-0.75, 0.8], [0.1, 0.1],
     [-1.2, -0.4], [2.0, -1.5], [0.3, 1.7], [-0.9, 0.05]]
MSE_TARGET = [[math.sin(i + j) * 0.8 for j in range(3)] for i in range(8)]
CLASSES = [0, 2, 1, 1, 0, 2, 1, 0]


def initial_weights():
    """Return fixed weights and biases: smooth functions of the index."""
    layers = []
    for layer, (fan_in, fan_out) in enumerate(SIZES):
        weight = [[0.6 * math.sin(1.3 * (o * fan_in + i) + layer) for i in range(fan_in)]
                  for o in range(fan_out)]
        bias = [0.2 * math.cos(0.9 * o + layer) for o in range(fan_out)]
        layers.append({"weight": weight, "bias": bias})
    return layers


def build(weights):
    modules = []
    for layer, (fan_in, fan_out) in enumerate(SIZES):
        linear = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weights[layer]["weight"], dtype=torch.float32))
            linear.bias.copy_(torch.tensor(weights[layer]["bias"], dtype=torch.float32))
        modules.append(linear)
        if layer < len(SIZES) - 1:
            modules.append(torch.nn.Tanh())
    return torch.nn.Sequential(*modules)


def train(loss_name, weights):
    net = build(weights)
    loss_fn = getattr(torch.nn, loss_name)()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    x = torch.tensor(X, dtype=torch.float32)
    if loss_name == "CrossEntropyLoss":
        y = torch.tensor(CLASSES, dtype=torch.long)
    else:
        y = torch.tensor(MSE_TARGET, dtype=torch.float32)
    losses = []
    for _ in range(EPOCHS):
        for start in range(0, len(X), BATCH):
            opt.zero_grad()
            loss = loss_fn(net(x[start:start + BATCH]), y[start:start + BATCH])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    final = [[p.detach().reshape(-1).tolist() for p in m.parameters()]
             for m in net if isinstance(m, torch.nn.Linear)]
    return {"loss": loss_name, "step_losses": losses, "final_params": final}


def main():
    weights = initial_weights()
    doc = {
        "torch_version": torch.__version__,
        "sizes": SIZES,
        "batch": BATCH,
        "epochs": EPOCHS,
        "lr": LR,
        "x": X,
        "mse_target": MSE_TARGET,
        "classes": CLASSES,
        "weights": weights,
        "cases": [train("MSELoss", weights), train("CrossEntropyLoss", weights)],
    }
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
