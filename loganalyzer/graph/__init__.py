"""Microsoft Graph: the only package that imports msgraph, kiota and azure-identity.

``client`` signs in and reads raw pages, ``fetch`` pages provisioning logs into a folder with
resume, ``query`` builds ``$filter`` expressions, ``state`` keeps resume and incremental state.
"""
