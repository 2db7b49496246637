import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)

for epoch in range(100):
    for x, y in zip(x_data, y_data):
        y_pred = w1 * x ** 2 + w2 * x + b  # 前向
        l = (y_pred - y) ** 2  # 损失
        l.backward()  # 反向
        print('\tgrad:', x, y, w1.grad.item(), w2.grad.item(), b.grad.item())
        w1.data = w1.data - 0.01 * w1.grad.data
        w2.data = w2.data - 0.01 * w2.grad.data
        b.data = b.data - 0.01 * b.grad.data
        w1.grad.data.zero_()
        w2.grad.data.zero_()
        b.grad.data.zero_()
    print("progress:", epoch, l.item())
print("w1 =", w1.item(), "w2 =", w2.item(), "b =", b.item())
print("predict (after training)", 4, (w1 * 16 + w2 * 4 + b).item())
