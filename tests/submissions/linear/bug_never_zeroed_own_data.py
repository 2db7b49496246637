import torch

# 自己造的数据 y = 2x
x_data = [1.0, 2.0, 3.0, 4.0, 5.0]
y_data = [2.0, 4.0, 6.0, 8.0, 10.0]
w = torch.tensor([1.0], requires_grad=True)
lr = 0.001


def forward(x):
    return x * w


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


if __name__ == '__main__':
    for epoch in range(20):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            with torch.no_grad():
                w -= lr * w.grad
        print("epoch", epoch, "w =", w.item(), "loss =", l.item())
    print("predict (after training)", 6, forward(6).item())
