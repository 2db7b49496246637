import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.Tensor([1.0])
w.requires_grad = True


# 前向计算
def forword(x):
    return x * w


# 损失函数
def loss(x, y):
    y_pred = forword(x)
    return (y_pred - y) ** 2


print("训练前的预测:", 4, forword(4).item())
for epoch in range(50):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        print('\tgrad:', x, y, w.grad.item())
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    print("第", epoch, "轮, loss =", l.item())
print("训练后的预测:", 4, forword(4).item())
