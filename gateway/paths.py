"""Where the gateway's data files live.

The repository keeps them in top-level folders (migrations/, schemas/, descriptors/); a built wheel
carries the same folders inside the package, in gateway/_data/ (see setup.py), so an installed
gateway finds them without a checkout.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DIR = PACKAGE_DIR / "_data"
DATA_FOLDERS = ("migrations", "schemas", "descriptors")

ROOT = BUNDLED_DIR if (BUNDLED_DIR / "migrations").is_dir() else PACKAGE_DIR.parent
SCHEMAS_DIR = ROOT / "schemas"
DESCRIPTORS_DIR = ROOT / "descriptors"
MIGRATIONS_DIR = ROOT / "migrations"
