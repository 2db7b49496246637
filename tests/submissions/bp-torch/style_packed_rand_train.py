import torch
import matplotlib.pyplot as plt


def forward(x, w, y):
    h1 = torch.sigmoid(w[0] * x[0] + w[2] * x[1])
    h2 = torch.sigmoid(w[1] * x[0] + w[3] * x[1])
    o1 = torch.sigmoid(w[4] * h1 + w[6] * h2)
    o2 = torch.sigmoid(w[5] * h1 + w[7] * h2)
    error = ((o1 - y[0]) ** 2 + (o2 - y[1]) ** 2) / 2
    return o1, o2, error


def loss(x, y, w):
    return forward(x, w, y)[2]


def train(x, y, w, epoch, step):
    errors = []
    for i in range(epoch):
        error = loss(x, y, w)
        error.backward()
        with torch.no_grad():
            w -= step * w.grad
            w.grad.zero_()
        errors.append(error.item())
        print("第", i + 1, "轮 loss =", error.item())
    return errors


if __name__ == "__main__":
    x = torch.tensor([0.5, 0.3])
    y = torch.tensor([0.23, -0.07])
    w = torch.rand(8, requires_grad=True)  # 随机初始化
    print("初始权值:", w.data)
    epoch = 200
    step = 0.5
    errors = train(x, y, w, epoch, step)
    print("训练后的权值:", w.data)
    plt.plot(errors)
    plt.show()
