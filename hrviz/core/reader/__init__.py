"""Reading heart-rate CSVs from many devices by detecting their layout.

Entry point: :func:`read_series`. (Being written; see the module docstrings once it lands.)
"""
