"""K-12 interoperability gateway: Ed-Fi DS5, OneRoster v1.1, professional profiles."""

__version__ = "0.1.0"
