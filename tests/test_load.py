"""The loader turns every file students really hand in into source, or into a one-line reason."""

from __future__ import annotations

import ast
import subprocess
import sys

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


def test_notebook_syntax_error_names_cell_and_line_as_the_student_sees_them(write):
    """Cell 1 is the markdown heading: the broken code cell is the notebook's third, as Jupyter shows it."""
    with pytest.raises(LoadError, match="cell 3, line 2"):
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


def _ran(*cells: tuple[str, int | None]) -> str:
    """A notebook whose code cells carry execution counts (the order the kernel ran them in)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 作业三")] + [nbformat.v4.new_code_cell(c, execution_count=k)
                                                            for c, k in cells]
    return nbformat.writes(nb)


def test_cells_run_out_of_order_are_graded_in_the_order_they_ran(write):
    """The student ran cell 4 (the definitions) before cell 2 (the use): graded as it ran, with a note."""
    src = load(write("hw.ipynb", _ran(("print(f(2))", 3), ("x = 1", 1), ("def f(v):\n    return v + x", 2))))
    assert src.text.index("x = 1") < src.text.index("def f(v)") < src.text.index("print(f(2))")
    assert any("cell 3 [1], cell 4 [2], cell 2 [3]" in n for n in src.notes)
    assert src.where(src.text.splitlines().index("print(f(2))") + 1) == "cell 2, line 1"


def test_cells_in_order_or_never_run_keep_the_notebook_order(write):
    for counts in ((1, 2, 3), (None, None, None), (3, None, 1), (2, 2, 1)):
        src = load(write("hw.ipynb", _ran(*zip(("a = 1", "b = a", "c = b"), counts))))
        assert src.text.index("a = 1") < src.text.index("b = a") < src.text.index("c = b"), counts
        assert not any("order" in n for n in src.notes)


def test_colab_lines_are_left_out_with_a_note(write):
    code = ("from google.colab import drive\ndrive.mount('/content/drive')\nimport numpy as np\n"
            "if True:\n    from google.colab import files\n    uploaded = files.upload()\nx = np.ones(2)\n")
    for src in (load(write("hw.py", code)), load(write("hw.ipynb", _notebook(code)))):
        assert "google" not in src.text and "drive.mount" not in src.text and "files.upload" not in src.text
        assert "import numpy as np" in src.text and "x = np.ones(2)" in src.text
        assert any("4 Colab-only line(s)" in n and "drive.mount('/content/drive')" in n for n in src.notes)
    assert load(write("hw.py", code)).text.count("\n") == code.count("\n")  # the line numbers stay


def test_utf16_is_read_and_python_would_refuse_it(write):
    text = "# 作业二\nimport numpy as np\nx = np.ones(2)\n"
    for encoding in ("utf-16", "utf-16-le"):  # Notepad's "Unicode", with its byte order mark; and without
        path = write("hw.py", text.encode(encoding))
        src = load(path)
        assert src.text == text
        assert src.refused and "UTF-16" in src.refused and "save it as UTF-8" in src.refused
        assert not _python_runs(path)


def _python_runs(path) -> bool:
    """What `python file.py` itself says of the file: the cross-check of `refused`."""
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    return done.returncode == 0


def test_a_utf8_file_declaring_gbk_is_read_but_python_would_refuse_it(write):
    path = write("hw.py", ("# coding=gbk\n# 权重初始值\n" + CHINESE).encode("utf-8"))
    src = load(path)
    assert src.text.startswith("# coding=gbk") and "损失函数" in src.text
    assert src.refused is not None and "coding=gbk" in src.refused and "UTF-8" in src.refused
    assert not _python_runs(path)
    for fine in (("# coding=gbk\n" + CHINESE).encode("gbk"), ("# coding=utf-8\n" + CHINESE).encode("utf-8"),
                 CHINESE.encode("utf-8"), ("# coding=gbk\n" + CHINESE).encode("utf-8")):  # the last: mojibake
        path = write("hw.py", fine)
        assert load(path).refused is None and _python_runs(path), fine


def test_a_syntax_error_keeps_a_salvaged_tree_for_detection(write):
    with pytest.raises(LoadError) as e:
        load(write("hw.py", "def forward_propagate(x1, x2)\n    return x1\n\ndef back_propagate(o1, o2, h1, h2):\n"
                            "    return o1\n"))
    assert e.value.salvaged is not None
    assert {n.name for n in e.value.salvaged.body if isinstance(n, ast.FunctionDef)} == \
        {"forward_propagate", "back_propagate"}  # the colon its def line lacks, mended


def test_only_a_line_that_starts_a_statement_is_a_magic(write):
    """`!= b` or `% 3` continuing a bracket is Python, as is a `%` inside a triple-quoted string; a magic in an
    indented block leaves `pass` (the block stays valid), and its backslash continuations go with it."""
    cell = ("same = (a\n"
            "        != b)\n"
            "rest = (n\n"
            "        % 3)\n"
            "doc = '''\n"
            "%d items\n"
            "'''\n"
            "total = 1 + \\\n"
            "    2\n"
            "for i in range(2):\n"
            "    %time train()\n"
            "!pip install numpy \\\n"
            "    torch\n"
            "done = True  # a comment ending in a backslash \\\n"
            "!echo after\n")
    src = load(write("hw.ipynb", _notebook("a, b, n = 1, 2, 7\ndef train(): pass", cell)))
    module: dict = {}
    exec(compile(src.tree, "hw", "exec"), module)
    assert module["same"] is True and module["rest"] == 1 and module["doc"] == "\n%d items\n"
    assert module["total"] == 3 and module["done"] is True
    dropped = next(n for n in src.notes if "dropped" in n)
    assert "dropped 3" in dropped and "%time train()" in dropped and "!echo after" in dropped
    assert "torch" not in src.text and "!= b" in src.text
