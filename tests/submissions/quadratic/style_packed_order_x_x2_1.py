import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
# 参数放在一个张量里: [一次项系数, 二次项系数, 偏置]
w = torch.tensor([1.0, 1.0, 1.0], requires_grad=True)
lr = 0.01


def forward(x):
    return w[0] * x + w[1] * x * x + w[2]


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w.data -= lr * w.grad.data
        w.grad.data.zero_()
    print("epoch:", epoch, "loss:", l.item(), "w:", w.data)
print("一次项:", w[0].item(), "二次项:", w[1].item(), "偏置:", w[2].item())
print("predict (after training)", 4, forward(4).item())
