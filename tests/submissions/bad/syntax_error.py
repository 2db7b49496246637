import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8)  # 正向传播
    in_h1 = w1 * x1 + w3 * x2
    return in_h1
