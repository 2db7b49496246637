"""backprop-grader: grade backpropagation homework in a sandboxed subprocess."""

from pathlib import Path

__version__ = "0.1.0"
_HERE = Path(__file__).resolve().parent
# what is graded, and how: top-level `assignments/` in a checkout, `grader/assignments/` in a wheel
ASSIGNMENTS_DIR = next((d for d in (_HERE / "assignments", _HERE.parent / "assignments") if d.is_dir()),
                       _HERE.parent / "assignments")
