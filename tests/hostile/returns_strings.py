# Homework 2: the right numbers, but formatted as strings ("0.476945805...") by every
# function -- text is not a number, whatever it spells.
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _s(v):
    return f"{float(v):.12f}"


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    w1, w2, w3, w4, w5, w6, w7, w8 = (float(w) for w in (w1, w2, w3, w4, w5, w6, w7, w8))
    out_h1 = sigmoid(w1 * x1 + w3 * x2)
    out_h2 = sigmoid(w2 * x1 + w4 * x2)
    out_o1 = sigmoid(w5 * out_h1 + w7 * out_h2)
    out_o2 = sigmoid(w6 * out_h1 + w8 * out_h2)
    error = (1 / 2) * (out_o1 - y1) ** 2 + (1 / 2) * (out_o2 - y2) ** 2
    return _s(out_o1), _s(out_o2), _s(out_h1), _s(out_h2), _s(error)


def back_propagate(out_o1, out_o2, out_h1, out_h2):
    out_o1, out_o2, out_h1, out_h2 = (float(v) for v in (out_o1, out_o2, out_h1, out_h2))
    delta_o1 = (out_o1 - y1) * out_o1 * (1 - out_o1)
    delta_o2 = (out_o2 - y2) * out_o2 * (1 - out_o2)
    delta_h1 = (delta_o1 * float(w5) + delta_o2 * float(w6)) * out_h1 * (1 - out_h1)
    delta_h2 = (delta_o1 * float(w7) + delta_o2 * float(w8)) * out_h2 * (1 - out_h2)
    grads = (delta_h1 * x1, delta_h2 * x1, delta_h1 * x2, delta_h2 * x2,
             delta_o1 * out_h1, delta_o2 * out_h1, delta_o1 * out_h2, delta_o2 * out_h2)
    return tuple(_s(g) for g in grads)


def update_w(step, w1, w2, w3, w4, w5, w6, w7, w8):
    old = (w1, w2, w3, w4, w5, w6, w7, w8)
    grads = (d_w1, d_w2, d_w3, d_w4, d_w5, d_w6, d_w7, d_w8)
    return tuple(_s(float(w) - step * float(g)) for w, g in zip(old, grads))


if __name__ == "__main__":
    w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8
    x1, x2 = 0.5, 0.3
    y1, y2 = 0.23, -0.07
    step = 1
    for i in range(10):
        out_o1, out_o2, out_h1, out_h2, error = forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8)
        print("round", i, "loss", error)
        d_w1, d_w2, d_w3, d_w4, d_w5, d_w6, d_w7, d_w8 = back_propagate(out_o1, out_o2, out_h1, out_h2)
        w1, w2, w3, w4, w5, w6, w7, w8 = update_w(step, w1, w2, w3, w4, w5, w6, w7, w8)
