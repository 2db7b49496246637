import numpy as np
import matplotlib.pyplot as plt


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# w 是一个长度为 8 的数组: w[0]..w[7] 对应 w1..w8
def forward_propagate(x1, x2, y1, y2, w):
    h1 = sigmoid(w[0] * x1 + w[2] * x2)
    h2 = sigmoid(w[1] * x1 + w[3] * x2)
    o1 = sigmoid(w[4] * h1 + w[6] * h2)
    o2 = sigmoid(w[5] * h1 + w[7] * h2)
    error = 0.5 * (o1 - y1) ** 2 + 0.5 * (o2 - y2) ** 2
    return o1, o2, h1, h2, error


def back_propagate(o1, o2, h1, h2, w):  # x1, x2, y1, y2 用全局变量
    delta_o1 = (o1 - y1) * o1 * (1 - o1)
    delta_o2 = (o2 - y2) * o2 * (1 - o2)
    delta_h1 = (delta_o1 * w[4] + delta_o2 * w[5]) * h1 * (1 - h1)
    delta_h2 = (delta_o1 * w[6] + delta_o2 * w[7]) * h2 * (1 - h2)
    d_w = np.array([delta_h1 * x1, delta_h2 * x1, delta_h1 * x2, delta_h2 * x2,
                    delta_o1 * h1, delta_o2 * h1, delta_o1 * h2, delta_o2 * h2])
    return d_w


def update_w(step, w, d_w):
    w = w - step * d_w  # 梯度下降
    return w


if __name__ == "__main__":
    x1, x2 = 0.5, 0.3
    y1, y2 = 0.23, -0.07
    w = np.array([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8])
    N = 100
    step = 1
    loss_list = []
    for i in range(N):
        o1, o2, h1, h2, error = forward_propagate(x1, x2, y1, y2, w)
        d_w = back_propagate(o1, o2, h1, h2, w)
        w = update_w(step, w, d_w)
        loss_list.append(error)
        print("第%d轮: o1=%.5f o2=%.5f loss=%.6f" % (i + 1, o1, o2, error))
    print("训练后的权值:", np.round(w, 4))
    plt.plot(range(N), loss_list)
    plt.xlabel("轮次")
    plt.ylabel("loss")
    plt.show()
