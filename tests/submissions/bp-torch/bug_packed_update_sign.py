import torch
import matplotlib.pyplot as plt


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def forward(x, w, y):
    h1 = sigmoid(w[0] * x[0] + w[2] * x[1])
    h2 = sigmoid(w[1] * x[0] + w[3] * x[1])
    o1 = sigmoid(w[4] * h1 + w[6] * h2)
    o2 = sigmoid(w[5] * h1 + w[7] * h2)
    error = ((o1 - y[0]) ** 2 + (o2 - y[1]) ** 2) / 2
    return o1, o2, error


def loss(x, y, w):
    o1, o2, error = forward(x, w, y)
    return error


def train(x, y, w, epoch, step):
    errors = []
    for i in range(epoch):
        print("=====第" + str(i + 1) + "轮=====")
        l = loss(x, y, w)
        errors.append(l.item())
        l.backward()  # 反向传播
        with torch.no_grad():
            w += step * w.grad  # 更新权重
        w.grad.zero_()  # 梯度清零
        print("损失:", round(l.item(), 5), "权值:", [round(v, 4) for v in w.tolist()])
    return errors


if __name__ == "__main__":
    x = torch.tensor([0.5, 0.3])  # 输入
    y = torch.tensor([0.23, -0.07])  # 真实值
    w = torch.tensor([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8], requires_grad=True)  # 权重初始值
    epoch = 50  # 训练轮次
    step = 1  # 步长
    errors = train(x, y, w, epoch, step)
    print("训练后的权值:", w.data)

    plt.plot(range(epoch), errors)
    plt.xlabel("epoch")
    plt.ylabel("loss")
    plt.title("step = " + str(step))
    plt.show()
