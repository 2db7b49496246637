import torch


class Net:
    """作业三:用一个类把网络包起来"""

    def __init__(self):
        self.w1, self.w2, self.w3, self.w4 = torch.Tensor([0.2]), torch.Tensor([-0.4]), torch.Tensor([0.5]), torch.Tensor([0.6])
        self.w5, self.w6, self.w7, self.w8 = torch.Tensor([0.1]), torch.Tensor([-0.5]), torch.Tensor([-0.3]), torch.Tensor([0.8])
        for w in self.weights():
            w.requires_grad = True

    def weights(self):
        return [self.w1, self.w2, self.w3, self.w4, self.w5, self.w6, self.w7, self.w8]

    def forward_propagate(self, x1, x2):
        h1 = torch.sigmoid(self.w1 * x1 + self.w3 * x2)
        h2 = torch.sigmoid(self.w2 * x1 + self.w4 * x2)
        o1 = torch.sigmoid(self.w5 * h1 + self.w7 * h2)
        o2 = torch.sigmoid(self.w6 * h1 + self.w8 * h2)
        return o1, o2

    def loss_fuction(self, x1, x2, y1, y2):
        o1, o2 = self.forward_propagate(x1, x2)
        return 0.5 * (o1 - y1) ** 2 + 0.5 * (o2 - y2) ** 2

    def update_w(self, step=1):
        for w in self.weights():
            w.data = w.data + step * w.grad.data  # 更新权值
            w.grad.data.zero_()


if __name__ == "__main__":
    x1, x2 = torch.Tensor([0.5]), torch.Tensor([0.3])
    y1, y2 = torch.Tensor([0.23]), torch.Tensor([-0.07])
    net = Net()
    for i in range(10):
        L = net.loss_fuction(x1, x2, y1, y2)
        L.backward()
        net.update_w()
        print("第", i + 1, "轮", L.item())
