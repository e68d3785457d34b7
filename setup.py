"""Package discovery that pyproject.toml alone cannot express.

The repository keeps ``connectors/`` and ``mappings/`` at its top level; the wheel ships them as
``erp_recovery.connectors`` and ``erp_recovery.mappings`` (see ``package-dir`` in pyproject.toml),
so every connector sub-package is listed here under that prefix.
"""

from setuptools import find_namespace_packages, setup

# Namespace discovery also lists data folders (demo/data, legal/data...), so their files ship.
packages = [name for name in find_namespace_packages("src") if "__pycache__" not in name]
packages += ["erp_recovery.connectors"]
packages += [f"erp_recovery.connectors.{name}" for name in find_namespace_packages("connectors") if "__pycache__" not in name]
packages += ["erp_recovery.mappings"]

setup(packages=packages)
