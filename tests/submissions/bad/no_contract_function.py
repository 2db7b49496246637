import numpy as np

x1, x2 = 0.5, 0.3
for i in range(10):
    print("第", i, "轮", np.exp(-x1 * i))
