"""The child side: everything that runs in the sandboxed process beside the student's code.

Untrusted company: these modules import only the standard library, the frameworks the
submission itself uses (numpy, torch) and `grader.protocol`, never the parent side, and
they never see an expected value. `boot.py` is the entry point.
"""
