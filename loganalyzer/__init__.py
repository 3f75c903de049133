"""loganalyzer: diagnose Entra ID provisioning logs of SCIM provisioning into Flowcase."""

__version__ = "0.1.0"
