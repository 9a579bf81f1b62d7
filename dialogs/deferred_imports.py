"""Parts of the Bot Framework SDK that load only when first used, to keep start-up short.

``botbuilder.dialogs`` imports ``recognizers_date_time`` for its DateTimePrompt, which
Omtanke never uses; the recognizers' pattern tables are about a tenth of a second of every
start. :func:`defer_date_time_recognizers` puts a stand-in for that package into
``sys.modules`` before the SDK is imported: it carries the one name the SDK imports from it,
``recognize_datetime``, which imports the real package on its first call, and any other
attribute, or a submodule, loads the real package too. The SDK's files are not changed.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

DATE_TIME_RECOGNIZERS = "recognizers_date_time"
_loading = threading.RLock()


class DeferredModule(types.ModuleType):
    """A stand-in module that imports the real one when anything beyond it is asked for."""

    def __getattr__(self, name: str) -> Any:
        # Only for names the stand-in does not have itself (PEP 562).
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(real_module(self.__name__), name)


def real_module(name: str) -> types.ModuleType:
    """The real module `name`, imported now if only its stand-in is loaded."""
    with _loading:
        module = sys.modules.get(name)
        if module is not None and not isinstance(module, DeferredModule):
            return module
        if module is not None:
            del sys.modules[name]
        try:
            return importlib.import_module(name)
        except BaseException:
            if module is not None:
                sys.modules.setdefault(name, module)
            raise


def _recognize_datetime(*args: Any, **kwargs: Any) -> Any:
    return real_module(DATE_TIME_RECOGNIZERS).recognize_datetime(*args, **kwargs)


def defer_date_time_recognizers() -> bool:
    """Install the stand-in for recognizers_date_time; False when it is already imported
    (or deferred) or not installed (then the SDK's own import reports it)."""
    if DATE_TIME_RECOGNIZERS in sys.modules:
        return False
    spec = importlib.util.find_spec(DATE_TIME_RECOGNIZERS)
    if spec is None:
        return False
    stand_in = DeferredModule(DATE_TIME_RECOGNIZERS, __doc__)
    stand_in.__spec__ = spec
    # A package to the import system, so `from recognizers_date_time import x` asks the
    # stand-in for x rather than failing.
    stand_in.__path__ = list(spec.submodule_search_locations or [])
    stand_in.recognize_datetime = _recognize_datetime  # type: ignore[attr-defined]
    sys.modules[DATE_TIME_RECOGNIZERS] = stand_in
    return True
