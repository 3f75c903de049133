"""The Entra configuration of the Flowcase app, checked against the setup guide.

``model`` is one snapshot (msgraph-sdk's typed models) wherever it was read: from Graph
(``graph.config_fetch``) or from files (``files``). ``check`` runs the checks of
``diagnostics/config_rules`` on it; ``render`` prints the result, ``drift`` compares two
snapshots and ``with_logs`` joins the result to a log diagnosis.
"""
