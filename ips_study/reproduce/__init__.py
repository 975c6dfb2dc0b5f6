"""The reviewers' analysis script: ``python -m ips_study.reproduce`` reproduces every figure and table."""
