"""A class folder of homework 3 as an LMS download really arrives: 35 students, one Moodle-style folder each
("Name_id_assignsubmission_file_"), written the ways the issue found students hand in.

Every student's entry says what it must come to: `correct` (full marks, whatever the habit), `buggy` (a
real mistake, graded and out of the same total) or `error` (nothing gradable, 0 of the total, with why).
Built from the fixtures of tests/submissions and a few files made here (a torch helper module, a UTF-16
file); `python -m tests.lms.build DIR` writes one to look at by hand.
"""

from __future__ import annotations

import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"
SUFFIX = "_assignsubmission_file_"
TEMPLATE = "bp-torch/correct_seed001_template.py"


@dataclass(frozen=True)
class Student:
    name: str  # the student, as the gradebook's student column shows them
    expect: str  # correct | buggy | error
    habit: str  # what the entry shows

    @property
    def folder(self) -> str:
        return f"{self.name}_{sum(map(ord, self.name)) * 37 % 90000 + 10000}{SUFFIX}"


def _fixture(rel: str) -> bytes:
    return (SUBMISSIONS / rel).read_bytes()


def _template() -> str:
    return (SUBMISSIONS / TEMPLATE).read_text(encoding="utf-8")


HELPER = '''import torch


def sigmoid(z):
    """作业三的激活函数,放在 utils.py 里"""
    return 1 / (1 + torch.exp(-z))
'''


def _with_helper() -> dict[str, bytes]:
    """hw3.py importing its sigmoid from utils.py and reading its inputs from data.csv beside it."""
    src = _template()
    start = src.index("def sigmoid(z):")
    end = src.index("def forward_propagate")
    src = src[:start] + src[end:]
    src = src.replace("import torch\n", "import torch\nfrom utils import sigmoid\n", 1)
    src = src.replace('if __name__ == "__main__":\n',
                      'if __name__ == "__main__":\n    with open("data.csv", encoding="utf-8") as f:\n'
                      '        print("数据:", f.read().strip())\n', 1)
    return {"hw3.py": src.encode("utf-8"), "utils.py": HELPER.encode("utf-8"), "data.csv": b"x1,x2\n0.5,0.3\n"}


def _zip(files: dict[str, bytes]) -> bytes:
    """A zip as a Mac's Finder makes one: the files, and __MACOSX's resource forks beside them."""
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(f"hw3/{name}", data)
            z.writestr(f"__MACOSX/hw3/._{name}", b"\x00\x05\x16\x07")
        z.writestr("../outside.py", b"print('escaped')\n")  # a member whose path leads out: never unpacked
    return buf.getvalue()


def class_folder(root: Path) -> list[Student]:
    """Write the class below root; the students, in the order written."""
    students: list[tuple[Student, dict[str, bytes]]] = []

    def add(name: str, expect: str, habit: str, files: dict[str, bytes]) -> None:
        students.append((Student(name, expect, habit), files))

    template = _template()
    add("zhao", "correct", "the template as handed out", {"hw3.py": _fixture(TEMPLATE)})
    add("qian", "correct", "a class with the three methods", {"hw3.py": _fixture("bp-torch/style_class_methods.py")})
    add("sun", "correct", "all eight weights in one tensor",
        {"hw3.py": _fixture("bp-torch/style_one_tensor_update_w.py")})
    add("li", "correct", "the list style, updating inline", {"hw3.py": _fixture("bp-torch/correct_list_style.py")})
    add("zhou", "correct", "a notebook with magics", {"hw3.ipynb": _fixture("bp-torch/notebook_with_magics.ipynb")})
    add("wu", "correct", "a Colab notebook: drive.mount, display()",
        {"hw3.ipynb": _fixture("bp-torch/notebook_colab_display.ipynb")})
    add("zheng", "correct", "notebook cells run out of order",
        {"hw3.ipynb": _fixture("bp-torch/notebook_run_out_of_order.ipynb")})
    add("wang", "correct", "tqdm and pandas imported", {"hw3.py": _fixture("bp-torch/imports_tqdm_pandas.py")})
    add("feng", "correct", "a helper module and a data file beside it", _with_helper())
    add("chen", "correct", "saved by Notepad as Unicode (UTF-16)", {"hw3.py": template.encode("utf-16")})
    add("chu", "correct", "UTF-8 under a `# coding=gbk` line", {"hw3.py": ("# coding=gbk\n" + template).encode("utf-8")})
    add("wei", "correct", "GBK with its coding line", {"hw3.py": ("# coding=gbk\n" + template).encode("gbk")})
    add("jiang", "correct", "a zip from a Mac", {"hw3.zip": _zip({"hw3.py": _fixture(TEMPLATE)})})
    add("shen", "correct", "two versions: the older buggy, the newer right",
        {"hw3_old.py": _fixture("bp-torch/update_sign_error.py"), "hw3_final.py": _fixture(TEMPLATE)})
    add("han", "correct", "task relu", {"hw3.py": _fixture("bp-torch/relu_correct.py")})
    add("yang", "correct", "zero start written torch.zeros(1)", {"hw3.py": _fixture("bp-torch/zero_init_torch_zeros.py")})
    add("zhu", "correct", "seed 000's item 8: a zero start with CrossEntropyLoss",
        {"hw3.py": _fixture("bp-torch/seed000_item8_zero_cross_entropy.py")})
    add("qin", "correct", "task cross-entropy", {"hw3.py": _fixture("bp-torch/cross_entropy_correct.py")})
    add("you", "correct", "task mse-builtin", {"hw3.py": _fixture("bp-torch/mse_builtin_correct.py")})
    add("xu", "correct", "task random-init", {"hw3.py": _fixture("bp-torch/random_init_correct.py")})
    add("he", "correct", "an unused relu() beside sigmoid", {"hw3.py": _fixture("bp-torch/unused_relu_defined.py")})
    add("lv", "correct", "torch.sigmoid and step 0.5", {"hw3.py": _fixture("bp-torch/correct_sigmoid_builtin_step05.py")})
    add("shi", "correct", "loss_fuction taking the outputs",
        {"hw3.py": _fixture("bp-torch/style_loss_fuction_takes_outputs.py")})
    add("zhang", "correct", "one tensor trained by its own train()", {"hw3.py": _fixture("bp-torch/style_packed_w_train.py")})
    add("kong", "correct", "a Chinese file name", {"作业三_孔.py": _fixture(TEMPLATE)})
    add("cao", "correct", "notes.txt beside the code", {"hw3.py": _fixture(TEMPLATE), "notes.txt": "心得体会".encode()})
    add("yan", "buggy", "only w1's gradient zeroed", {"hw3.py": _fixture("bp-torch/seed002_only_w1_zeroed.py")})
    add("hua", "buggy", "update with the wrong sign", {"hw3.py": _fixture("bp-torch/update_sign_error.py")})
    add("jin", "buggy", "gradients never zeroed", {"hw3.py": _fixture("bp-torch/gradients_never_zeroed.py")})
    add("wei2", "buggy", "a class whose update climbs", {"hw3.py": _fixture("bp-torch/bug_class_update_sign.py")})
    add("tao", "buggy", "imports seaborn, which the sandbox has not",
        {"hw3.py": _fixture("bp-torch/imports_missing_module.py")})
    add("jiang2", "error", "a syntax error", {"hw3.py": template.replace("def loss_fuction(x1, x2, y1, y2):",
                                                                       "def loss_fuction(x1, x2, y1, y2)").encode()})
    add("qi", "error", "an empty folder", {})
    add("xie", "error", "the code pasted into a .txt", {"hw3.txt": _fixture(TEMPLATE)})
    add("zou", "error", "a corrupted notebook", {"hw3.ipynb": _fixture("bad/corrupted.ipynb")})
    stamp = 1_700_000_000
    for k, (student, files) in enumerate(students):
        folder = root / student.folder
        folder.mkdir(parents=True)
        for i, (name, data) in enumerate(files.items()):
            (folder / name).write_bytes(data)
            when = stamp + 3600 * k + 60 * i  # saved a minute apart, in order: hw3_final is newer (zips keep 2 s)
            os.utime(folder / name, (when, when))
    (root / "index.html").write_text("<p>Moodle: downloaded submissions</p>", encoding="utf-8")
    return [s for s, _ in students]


if __name__ == "__main__":
    made = class_folder(Path(sys.argv[1]))
    print(f"{len(made)} students in {sys.argv[1]}")
