"""A package's names imported on first use (PEP 562), so that importing the package stays cheap."""

import importlib


def lazy_exports(package: str, homes: dict[str, str]):
    """The module `__getattr__` of `package`: each name of `homes` comes from `package.<homes[name]>`."""

    def __getattr__(name):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)

    return __getattr__
