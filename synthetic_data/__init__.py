"""The embedded synthetic registers, installed as the data package ``ips_study.datasets.synthetic``.

Read them with :func:`ips_study.datasets.load_registers`; see ``README.md`` here for the codebook.
"""
