"""Standalone conformance runner for Ed-Fi (DS5, ODS/API 7 contract) and OneRoster v1.1 deployments.

It speaks HTTP only (and reads CSV packages offline); it never imports the gateway, so it checks the
wire contract of any vendor's deployment.
"""

__version__ = "0.1.0"
