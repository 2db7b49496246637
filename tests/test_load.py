"""The loader turns every file students really hand in into source, or into a one-line reason."""

from __future__ import annotations

import nbformat
import pytest

from grader.load import LoadError, load

CHINESE = "# 反向传播\nprint('损失函数:', 0.5)\n"


def test_gbk_with_coding_line_is_read_as_declared(write):
    src = load(write("hw.py", ("# coding=gbk\n" + CHINESE).encode("gbk")))
    assert "损失函数" in src.text
    assert src.notes == []


def test_gbk_without_coding_line_falls_back_and_says_so(write):
    src = load(write("hw.py", CHINESE.encode("gbk")))
    assert "损失函数" in src.text
    assert any("GBK" in n for n in src.notes)


def test_wrong_coding_line_is_survived(write):
    src = load(write("hw.py", ("# -*- coding: gbk -*-\n" + CHINESE).encode("utf-8")))
    assert "损失函数" in src.text


def test_utf8_bom_is_accepted(write):
    assert load(write("hw.py", b"\xef\xbb\xbf" + CHINESE.encode())).text.startswith("#")


def test_neither_utf8_nor_gbk(write):
    with pytest.raises(LoadError, match="neither UTF-8 nor GBK"):
        load(write("hw.py", b"x = 1\n\xff\xfe\xff\n"))


def test_empty_file(write):
    with pytest.raises(LoadError, match="has no code"):
        load(write("hw.py", b""))


def test_syntax_error_names_the_line(write):
    with pytest.raises(LoadError, match="syntax error at line 3"):
        load(write("hw.py", "import numpy\n\ndef f(x)\n    return x\n"))


def test_other_suffix(write):
    with pytest.raises(LoadError, match="not a .py or .ipynb"):
        load(write("hw.txt", "print(1)"))


def _notebook(*cells: str, markdown: str = "# 作业") -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb)


def test_notebook_cells_in_order_magics_dropped_with_a_note(write):
    src = load(write("hw.ipynb", _notebook("%matplotlib inline\nimport numpy as np", "!pip list\nx = 1",
                                           "%%bash\necho hi", "files = !ls\ny = x + 1")))
    assert "import numpy as np" in src.text and "y = x + 1" in src.text
    assert "%" not in src.text and "!" not in src.text and "echo" not in src.text
    assert any("dropped 4" in n for n in src.notes)


def test_notebook_syntax_error_names_cell_and_line(write):
    with pytest.raises(LoadError, match="cell 2, line 2"):
        load(write("hw.ipynb", _notebook("x = 1", "y = 2\ndef f(:\n    pass")))


def test_corrupted_notebook(write):
    text = _notebook("x = 1")
    with pytest.raises(LoadError, match="corrupted notebook"):
        load(write("hw.ipynb", text[: len(text) // 2]))


def test_notebook_that_is_not_a_notebook(write):
    with pytest.raises(LoadError, match="corrupted notebook"):
        load(write("hw.ipynb", '{"cells": 3}'))


def test_notebook_without_code_cells(write):
    with pytest.raises(LoadError, match="has no code cells"):
        load(write("hw.ipynb", _notebook()))
