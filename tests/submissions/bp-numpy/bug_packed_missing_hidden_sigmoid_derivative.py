import numpy as np
import matplotlib.pyplot as plt


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward_propagate(x1, x2, y1, y2, w):  # 正向传播, w = [w1, ..., w8]
    h1 = sigmoid(w[0] * x1 + w[2] * x2)
    h2 = sigmoid(w[1] * x1 + w[3] * x2)
    o1 = sigmoid(w[4] * h1 + w[6] * h2)
    o2 = sigmoid(w[5] * h1 + w[7] * h2)
    error = 0.5 * (o1 - y1) ** 2 + 0.5 * (o2 - y2) ** 2
    return o1, o2, h1, h2, error


def back_propagate(x1, x2, y1, y2, w, o1, o2, h1, h2):  # 反向传播
    d = np.zeros(8)
    delta_o1 = (o1 - y1) * o1 * (1 - o1)
    delta_o2 = (o2 - y2) * o2 * (1 - o2)
    d[4] = delta_o1 * h1
    d[5] = delta_o2 * h1
    d[6] = delta_o1 * h2
    d[7] = delta_o2 * h2
    # 隐藏层
    delta_h1 = delta_o1 * w[4] + delta_o2 * w[5]
    delta_h2 = delta_o1 * w[6] + delta_o2 * w[7]
    d[0] = delta_h1 * x1
    d[1] = delta_h2 * x1
    d[2] = delta_h1 * x2
    d[3] = delta_h2 * x2
    return d


def update_w(w, d, step):
    return w - step * d


if __name__ == "__main__":
    x1, x2 = 0.5, 0.3
    y1, y2 = 0.23, -0.07
    w = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
    step = 1
    errors = []
    for i in range(100):
        o1, o2, h1, h2, error = forward_propagate(x1, x2, y1, y2, w)
        d = back_propagate(x1, x2, y1, y2, w, o1, o2, h1, h2)
        w = update_w(w, d, step)
        errors.append(error)
        print("=====第" + str(i + 1) + "轮=====", "正向传播:", round(o1, 5), round(o2, 5), "损失:", round(error, 5))
    print(w)
    plt.plot(errors)
    plt.show()
