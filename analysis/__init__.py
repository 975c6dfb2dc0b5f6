"""The reviewers' analysis script: ``python -m analysis`` reproduces every figure and table."""
