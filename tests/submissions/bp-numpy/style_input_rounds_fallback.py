import numpy as np
import matplotlib.pyplot as plt


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):  # 正向传播
    out_h1 = sigmoid(w1 * x1 + w3 * x2)
    out_h2 = sigmoid(w2 * x1 + w4 * x2)
    out_o1 = sigmoid(w5 * out_h1 + w7 * out_h2)
    out_o2 = sigmoid(w6 * out_h1 + w8 * out_h2)
    error = (1 / 2) * (out_o1 - y1) ** 2 + (1 / 2) * (out_o2 - y2) ** 2
    return out_o1, out_o2, out_h1, out_h2, error


def back_propagate(out_o1, out_o2, out_h1, out_h2):  # 反向传播
    d_o1 = (out_o1 - y1) * out_o1 * (1 - out_o1)
    d_o2 = (out_o2 - y2) * out_o2 * (1 - out_o2)
    d_w5 = d_o1 * out_h1
    d_w6 = d_o2 * out_h1
    d_w7 = d_o1 * out_h2
    d_w8 = d_o2 * out_h2
    d_h1 = (d_o1 * w5 + d_o2 * w6) * out_h1 * (1 - out_h1)
    d_h2 = (d_o1 * w7 + d_o2 * w8) * out_h2 * (1 - out_h2)
    d_w1 = d_h1 * x1
    d_w2 = d_h2 * x1
    d_w3 = d_h1 * x2
    d_w4 = d_h2 * x2
    return d_w1, d_w2, d_w3, d_w4, d_w5, d_w6, d_w7, d_w8


def update_w(step, w1, w2, w3, w4, w5, w6, w7, w8):  # 更新权值
    w1 = w1 - step * d_w1
    w2 = w2 - step * d_w2
    w3 = w3 - step * d_w3
    w4 = w4 - step * d_w4
    w5 = w5 - step * d_w5
    w6 = w6 - step * d_w6
    w7 = w7 - step * d_w7
    w8 = w8 - step * d_w8
    return w1, w2, w3, w4, w5, w6, w7, w8


w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8
x1, x2 = 0.5, 0.3
y1, y2 = 0.23, -0.07
try:
    N = int(input("请输入迭代次数(直接回车默认100): "))
except (EOFError, ValueError):
    N = 100  # 没有输入时用默认值
step = 1

losses = []
for i in range(N):
    out_o1, out_o2, out_h1, out_h2, error = forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8)
    print("=====第" + str(i + 1) + "轮=====")
    print("正向传播:", round(out_o1, 5), round(out_o2, 5))
    print("损失函数:", round(error, 5))
    d_w1, d_w2, d_w3, d_w4, d_w5, d_w6, d_w7, d_w8 = back_propagate(out_o1, out_o2, out_h1, out_h2)
    w1, w2, w3, w4, w5, w6, w7, w8 = update_w(step, w1, w2, w3, w4, w5, w6, w7, w8)
    losses.append(error)

print("训练后的权值:", round(w1, 4), round(w2, 4), round(w3, 4), round(w4, 4),
      round(w5, 4), round(w6, 4), round(w7, 4), round(w8, 4))
plt.plot(losses)
plt.title("loss")
plt.show()
