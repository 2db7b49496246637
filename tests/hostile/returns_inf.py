# Homework 3 (torch): forward_propagate overflows on purpose (the outputs are scaled by an
# infinite "temperature"), so o1, o2 and the loss are inf and the gradients nan.
import torch

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
    temperature = torch.tensor([float("inf")])
    return out_o1 * temperature, out_o2 * temperature


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
