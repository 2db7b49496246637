"""backprop-grader: grade backpropagation homework in a sandboxed subprocess."""

from pathlib import Path

__version__ = "0.1.0"
ASSIGNMENTS_DIR = Path(__file__).resolve().parent.parent / "assignments"  # what is graded, and how
