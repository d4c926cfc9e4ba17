"""A package's names imported on first use (PEP 562), so that importing the package stays cheap."""

import importlib


def lazy_exports(package: str, modules: dict[str, tuple[str, ...]]):
    """The module `__all__` and `__getattr__` of `package`, whose `modules[m]` names come from `package.m`."""
    homes = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)

    return sorted(homes), __getattr__
