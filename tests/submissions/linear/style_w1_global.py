import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w1 = torch.Tensor([1.0])  # 权重初始值 1.0
w1.requires_grad = True  # 需要计算梯度


def forward(x):
    return x * w1


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


print("predict (before training)", 4, forward(4).item())
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)  # 前向传播,计算loss
        l.backward()  # 反向传播,梯度存到w1.grad里
        print('\tgrad:', x, y, w1.grad.item())
        w1.data = w1.data - 0.01 * w1.grad.data  # 更新权重
        w1.grad.data.zero_()  # 梯度清零
    print("progress:", epoch, l.item())
print("predict (after training)", 4, forward(4).item())
print("w1 =", w1.item())
