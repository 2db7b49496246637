# -*- coding: utf-8 -*-
# 作业: 用 torch.optim.SGD, 忘了 zero_grad()
import torch
import matplotlib.pyplot as plt

x1, x2 = torch.tensor([0.5]), torch.tensor([0.3])
y1, y2 = torch.tensor([0.23]), torch.tensor([-0.07])
w = [torch.tensor([v], requires_grad=True) for v in (0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8)]
w1, w2, w3, w4, w5, w6, w7, w8 = w


def forward_propagate(x1, x2):
    out_h1 = torch.sigmoid(w1 * x1 + w3 * x2)
    out_h2 = torch.sigmoid(w2 * x1 + w4 * x2)
    out_o1 = torch.sigmoid(w5 * out_h1 + w7 * out_h2)
    out_o2 = torch.sigmoid(w6 * out_h1 + w8 * out_h2)
    return out_o1, out_o2


def loss_fuction(x1, x2, y1, y2):
    y1_pred, y2_pred = forward_propagate(x1, x2)
    return 0.5 * (y1_pred - y1) ** 2 + 0.5 * (y2_pred - y2) ** 2


if __name__ == "__main__":
    optimizer = torch.optim.SGD(w, lr=1)
    losses = []
    for epoch in range(50):
        loss = loss_fuction(x1, x2, y1, y2)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        print("第", epoch + 1, "轮 损失:", round(loss.item(), 5))
    plt.plot(losses)
    plt.show()
