"""Packaging hook: the wheel carries the top-level data folders (migrations/, schemas/,
descriptors/) as package data in gateway/_data/, where gateway.paths finds them when installed.
Everything else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_FOLDERS = ("migrations", "schemas", "descriptors")  # gateway.paths.DATA_FOLDERS


class build_py_with_data(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the folders from the checkout
        target = Path(self.build_lib) / "gateway" / "_data"
        for name in DATA_FOLDERS:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(
                HERE / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )


setup(cmdclass={"build_py": build_py_with_data})
