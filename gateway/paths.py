"""Where the gateway's data files live (the package is installed editable from the repository)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = ROOT / "schemas"
DESCRIPTORS_DIR = ROOT / "descriptors"
MIGRATIONS_DIR = ROOT / "migrations"
