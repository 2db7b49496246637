"""The right answers: hand-derived float64 numpy models of every assignment.

The grader's parent process imports only this package (never torch) to compute
expected values; `reference.autograd` re-derives the same numbers with torch for
the tests' cross-check.
"""
