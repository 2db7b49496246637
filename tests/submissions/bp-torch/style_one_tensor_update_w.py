import torch

x1, x2 = torch.Tensor([0.5]), torch.Tensor([0.3])
y1, y2 = torch.Tensor([0.23]), torch.Tensor([-0.07])
w = torch.tensor([0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8], requires_grad=True)  # 八个权重放在一个张量里


def forward_propagate(x1, x2):
    h1 = torch.sigmoid(w[0] * x1 + w[2] * x2)
    h2 = torch.sigmoid(w[1] * x1 + w[3] * x2)
    o1 = torch.sigmoid(w[4] * h1 + w[6] * h2)
    o2 = torch.sigmoid(w[5] * h1 + w[7] * h2)
    return o1, o2


def loss_fuction(x1, x2, y1, y2):
    o1, o2 = forward_propagate(x1, x2)
    return 0.5 * (o1 - y1) ** 2 + 0.5 * (o2 - y2) ** 2


def update_w(w):
    step = 1
    w.data.sub_(step * w.grad.data)
    w.grad.data.zero_()
    return w


if __name__ == "__main__":
    for i in range(10):
        L = loss_fuction(x1, x2, y1, y2)
        L.backward()
        w = update_w(w)
        print(i, L.item())
