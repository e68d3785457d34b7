"""Package discovery that pyproject.toml alone cannot express.

The repository keeps ``connectors/`` and ``mappings/`` at its top level; the wheel ships them as
``erp_recovery.connectors`` and ``erp_recovery.mappings`` (see ``package-dir`` in pyproject.toml),
so every connector sub-package is listed here under that prefix.
"""

from setuptools import find_packages, setup

packages = find_packages("src")
packages += ["erp_recovery.connectors"]
packages += [f"erp_recovery.connectors.{name}" for name in find_packages("connectors")]
packages += ["erp_recovery.mappings"]

setup(packages=packages)
