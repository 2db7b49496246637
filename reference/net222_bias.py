"""The 2-2-2 network of homework 2 with a bias per unit (bp-bias), gradients by hand.

h1 = act(w1*x1 + w3*x2 + b1), h2 = act(w2*x1 + w4*x2 + b2),
o1 = act(w5*h1 + w7*h2 + b3), o2 = act(w6*h1 + w8*h2 + b4); parameters w1..w8, b1..b4.
The wiring and the deltas are net222's; a bias adds itself to its unit's pre-activation, so
dE/db of a unit is that unit's delta: dE/db1 = delta_h1, ..., dE/db4 = delta_o2.
"""

from __future__ import annotations

import numpy as np

from .model import Unit
from .net222 import Net222


class Net222Bias(Net222):
    id = "net222-bias"
    params = Net222.params + ("b1", "b2", "b3", "b4")
    hidden = tuple(Unit(u.name, u.incoming + (b,), u.outgoing) for u, b in zip(Net222.hidden, ("b1", "b2")))
    output_units = tuple(Unit(u.name, u.incoming + (b,), ()) for u, b in zip(Net222.output_units, ("b3", "b4")))

    def hidden_in(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return super().hidden_in(x, w) + w[8:10]

    def output_in(self, h: np.ndarray, w: np.ndarray) -> np.ndarray:
        return super().output_in(h, w) + w[10:12]

    def gradients(self, x: np.ndarray, h: np.ndarray, delta_h: np.ndarray, delta_o: np.ndarray) -> np.ndarray:
        grad = super().gradients(x, h, delta_h, delta_o)
        grad[8:10], grad[10:12] = delta_h, delta_o
        return grad


MODEL = Net222Bias()
