import torch


def forward(x):
	return w1 * x ** 2 + w2 * x + b


def loss(y_pred, y):
	return (y_pred - y) ** 2


if __name__ == '__main__':
	x_data = [1, 2, 3, 4, 5]  # 自己的数据
	y_data = [2, 5, 10, 17, 26]
	w1 = torch.tensor([1.0], requires_grad=True)
	w2 = torch.tensor([1.0], requires_grad=True)
	b = torch.tensor([1.0], requires_grad=True)
	lr = 0.0005  # 步长大了会发散
	epochs = 1000
	for epoch in range(epochs):
		for x, y in zip(x_data, y_data):
			y_pred = forward(x)
			l = loss(y_pred, y)
			l.backward()
			w1.data -= lr * w1.grad.data
			w2.data -= lr * w2.grad.data
			b.data -= lr * b.grad.data
			w1.grad.data.zero_()
			w2.grad.data.zero_()
			b.grad.data.zero_()
		if epoch % 50 == 0:
			print('epoch', epoch, 'loss', l.item())
	print('w1 =', w1.item(), 'w2 =', w2.item(), 'b =', b.item())
	print('predict x = 6:', forward(6).item())
