import torch
import matplotlib.pyplot as plt

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)

loss_list = []
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        y_pred = w * x  # 前向传播
        l = (y_pred - y) ** 2  # 损失
        l.backward()  # 反向传播
        print('\tgrad:', x, y, w.grad.item())
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    loss_list.append(l.item())
    print("progress:", epoch, l.item())

print("w =", w.item())
print("predict (after training)", 4, (4 * w).item())
plt.plot(range(100), loss_list)
plt.xlabel('epoch')
plt.ylabel('loss')
plt.show()
