"""The log rules: one module per rule, ``fcNNN_<problem>.py``, discovered by ``diagnostics``."""
