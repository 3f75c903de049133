"""Reports: one report model (``model``) rendered as HTML and Markdown (``render``).

``charts`` decides what the charts show, ``plot`` draws them as inline SVG, ``redact`` turns
personal data into stable pseudonyms.
"""
