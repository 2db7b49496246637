"""作业二的工具函数:激活函数放在单独的文件里"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def load_case(path):
    """读取输入、输出和初始权重"""
    values = np.loadtxt(path, delimiter=",")
    return [float(v) for v in values]
