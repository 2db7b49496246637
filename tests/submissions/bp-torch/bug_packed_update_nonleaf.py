import torch


def forward(x, w, y):
    h1 = torch.sigmoid(w[0] * x[0] + w[2] * x[1])
    h2 = torch.sigmoid(w[1] * x[0] + w[3] * x[1])
    o1 = torch.sigmoid(w[4] * h1 + w[6] * h2)
    o2 = torch.sigmoid(w[5] * h1 + w[7] * h2)
    error = 0.5 * (o1 - y[0]) ** 2 + 0.5 * (o2 - y[1]) ** 2
    return o1, o2, error


def loss(x, y, w):
    _, _, error = forward(x, w, y)
    return error


def train(x, y, w, epoch, step):
    for i in range(epoch):
        print("\n=====第" + str(i + 1) + "轮=====")
        error = loss(x, y, w)
        error.backward()
        w = w - step * w.grad  # 更新权重
        print("均方误差:", error.item())
        print("更新后的权值:", w.tolist())
    return w


x = torch.tensor([0.5, 0.3])
y = torch.tensor([0.23, -0.07])
w = torch.tensor([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8], requires_grad=True)
w = train(x, y, w, 100, 1)
print("最终权值:", w)
