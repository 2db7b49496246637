# Homework 3 (torch): correct, but at import it writes ~40 MB to stdout (print, sys.stdout,
# one 8 MB line with no newline at all, raw os.write on fd 1) and ~8 MB to stderr: the grader must drain it without
# choking, storing it all, or mistaking any of it for a result.
import os
import sys

import torch

_line = "loss history: " + "0.1234567890 " * 80000  # about 1 MB
for _ in range(4):
    print(_line)
for _ in range(24):
    sys.stdout.write(_line + "\n")
sys.stdout.write("x" * (8 * 1024 * 1024))
sys.stdout.flush()
_raw = ("y" * (1024 * 1024)).encode()
for _ in range(4):
    os.write(1, _raw)  # below Python's sys.stdout, straight to the descriptor
for _ in range(8):
    sys.stderr.write(_line + "\n")
sys.stderr.flush()

x1, x2 = torch.Tensor([0.5]), torch.Tensor([0.3])
y1, y2 = torch.Tensor([0.23]), torch.Tensor([-0.07])
w1, w2, w3, w4 = torch.Tensor([0.2]), torch.Tensor([-0.4]), torch.Tensor([0.5]), torch.Tensor([0.6])
w5, w6, w7, w8 = torch.Tensor([0.1]), torch.Tensor([-0.5]), torch.Tensor([-0.3]), torch.Tensor([0.8])
for _w in (w1, w2, w3, w4, w5, w6, w7, w8):
    _w.requires_grad = True


def sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def forward_propagate(x1, x2):
    out_h1 = sigmoid(w1 * x1 + w3 * x2)
    out_h2 = sigmoid(w2 * x1 + w4 * x2)
    out_o1 = sigmoid(w5 * out_h1 + w7 * out_h2)
    out_o2 = sigmoid(w6 * out_h1 + w8 * out_h2)
    return out_o1, out_o2


def loss_fuction(x1, x2, y1, y2):
    y1_pred, y2_pred = forward_propagate(x1, x2)
    loss = (1 / 2) * (y1_pred - y1) ** 2 + (1 / 2) * (y2_pred - y2) ** 2
    return loss


def update_w(w1, w2, w3, w4, w5, w6, w7, w8):
    step = 1
    for w in (w1, w2, w3, w4, w5, w6, w7, w8):
        w.data = w.data - step * w.grad.data
        w.grad.data.zero_()
    return w1, w2, w3, w4, w5, w6, w7, w8


if __name__ == "__main__":
    for i in range(10):
        L = loss_fuction(x1, x2, y1, y2)
        L.backward()
        print("round", i, "loss", L.item())
        w1, w2, w3, w4, w5, w6, w7, w8 = update_w(w1, w2, w3, w4, w5, w6, w7, w8)
