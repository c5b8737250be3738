"""Copies the top-level data folders (themes/, formulas/) into the wheel.

Everything else lives in pyproject.toml; this file only exists because
setuptools cannot map a data folder outside the package from pyproject alone.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
DATA = {"themes": "_themes", "formulas": "_formulas"}


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        for src, dest in DATA.items():
            target = Path(self.build_lib) / "gastown_tui" / dest
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(ROOT / src, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))


setup(cmdclass={"build_py": BuildPyWithData})
