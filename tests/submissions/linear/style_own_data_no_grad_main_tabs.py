# -*- coding: utf-8 -*-
import torch


def forward(x):
	return x * w


def loss(x, y):
	y_pred = forward(x)
	return (y_pred - y) ** 2


if __name__ == '__main__':
	# 用自己的数据试一下
	x_data = [1, 2, 3, 4, 5]
	y_data = [3, 5, 7, 9, 11]
	w = torch.tensor([1.0], requires_grad=True)
	lr = 0.005
	epochs = 10
	for epoch in range(epochs):
		for x, y in zip(x_data, y_data):
			l = loss(x, y)
			l.backward()
			with torch.no_grad():
				w -= lr * w.grad  # 梯度下降
				w.grad.zero_()
		print('epoch', epoch, 'w =', w.item(), 'loss =', l.item())
	print('predict x = 6:', forward(6).item())
