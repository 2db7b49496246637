# Homework 2 in the template's names, every function returning zeros: whatever the grader
# expects of such outputs, zeros must not earn the gradient (or any numeric) points.


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    return 0.0, 0.0, 0.0, 0.0, 0.0


def back_propagate(out_o1, out_o2, out_h1, out_h2):
    return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0


def update_w(step, w1, w2, w3, w4, w5, w6, w7, w8):
    return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
