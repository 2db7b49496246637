import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w_1 = torch.tensor([1.0], requires_grad=True)
w_2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w_1 * x + w_2 * x ** 2 + b  # 二次模型


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


print("predict (before training)", 4, forward(4).item())
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        with torch.no_grad():
            w_1 -= 0.01 * w_1.grad
            w_2 -= 0.01 * w_2.grad
            b -= 0.01 * b.grad
        w_1.grad.zero_()
        w_2.grad.zero_()
        b.grad.zero_()
    print("progress:", epoch, l.item())
print("predict (after training)", 4, forward(4).item())
print("w_1 =", w_1.item(), "w_2 =", w_2.item(), "b =", b.item())
