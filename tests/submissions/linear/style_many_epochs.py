import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor(1.0, requires_grad=True)  # 标量权重
learning_rate = 0.0001  # 学习率取小一点,多训练几轮
epochs = 2000


def forward(x):
    return x * w


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(epochs):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w.data = w.data - learning_rate * w.grad.data
        w.grad.data.zero_()
    if epoch % 100 == 0:
        print("epoch:", epoch, "w:", w.item(), "loss:", l.item())

print("最后的 w:", w.item())
print("predict (after training)", 4, forward(4).item())
