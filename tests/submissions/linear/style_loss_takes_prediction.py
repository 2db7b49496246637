import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)
lr = 0.002  # 学习率
epochs = 30


def forward(x):
    return w * x


def loss(y_pred, y):  # 传入预测值和真实值
    return (y_pred - y) ** 2


for epoch in range(epochs):
    for x, y in zip(x_data, y_data):
        y_pred = forward(x)
        l = loss(y_pred, y)
        l.backward()
        w.data -= lr * w.grad.data
        w.grad.data.zero_()
    print(f"epoch {epoch}: w = {w.item():.5f}, loss = {l.item():.6f}")

print("predict (after training)", 4, forward(4).item())
