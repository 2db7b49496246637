"""backprop-grader: grade backpropagation homework in a sandboxed subprocess."""

__version__ = "0.1.0"
