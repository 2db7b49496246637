# Homework 2: every function hands back NaN (a "not implemented yet" placeholder). NaN
# compares false with everything, so a comparison written as `not abs(a - b) > tol`
# would let it pass; it must fail every numeric check.
import numpy as np

NAN = float("nan")


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    out_h1 = out_h2 = out_o1 = out_o2 = np.float64(NAN)
    error = np.float64(NAN)
    return out_o1, out_o2, out_h1, out_h2, error


def back_propagate(out_o1, out_o2, out_h1, out_h2):
    return (NAN,) * 8


def update_w(step, w1, w2, w3, w4, w5, w6, w7, w8):
    return (NAN,) * 8


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
