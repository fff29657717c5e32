"""Renamed keyword arguments: the old name keeps working for one release, with a DeprecationWarning.

The public API uses one name per concept (docs/guide/conventions.md#names): ``pi`` for a policy,
``mu`` for the start distribution, ``R`` for (S,) or (S, A) rewards, ``state_rewards`` for MaxEnt's
state rewards, ``horizon``, ``gamma``. Where a function used another name, :func:`renamed_keyword`
maps the old keyword to the new one; the position of the argument did not change, so positional
calls are unaffected.
"""

import functools
import inspect
import warnings

#: The release that renamed the keywords (the first to warn) and the one that drops the old names.
RENAMED_IN = "0.2.0"
REMOVED_IN = "0.3.0"


def renamed_keyword(old, new, *, since=RENAMED_IN, removal=REMOVED_IN):
    """Decorator: accept the keyword ``old`` as a deprecated alias of the parameter ``new``.

    Passing ``old`` warns (DeprecationWarning, pointing at the caller) naming both names and the
    release that removes ``old``, then calls the function with ``new``; passing both raises
    TypeError naming both. ``functools.wraps`` keeps the name, the docstring, ``__module__`` and
    ``__wrapped__``, so ``inspect.signature`` and doctest see the function's own (new) signature.
    Decorators stack, one per renamed keyword.
    """

    def decorate(fn):
        # Stacked decorators merge into one wrapper, so the warning always points at the caller.
        renamed = {**getattr(fn, "__renamed_keywords__", {}), old: (new, since, removal)}
        base = fn.__wrapped__ if hasattr(fn, "__renamed_keywords__") else fn
        params = list(inspect.signature(base).parameters.values())
        names = [p.name for p in params]
        positional = [p.name for p in params
                      if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.POSITIONAL_ONLY)]
        for o, (n, _, _) in renamed.items():
            if n not in names or o in names:
                raise AssertionError(f"{base.__qualname__}: cannot rename {o!r} to {n!r} (parameters {names})")

        @functools.wraps(base)
        def wrapper(*args, **kwargs):
            for o in renamed.keys() & kwargs.keys():
                n, since_, removal_ = renamed[o]
                if n in kwargs or n in positional[:len(args)]:
                    raise TypeError(
                        f"{base.__name__}() got both {n!r} and its deprecated alias {o!r}; pass only {n!r}"
                    )
                warnings.warn(
                    f"{base.__name__}(): the keyword {o!r} is deprecated since tabular_rl {since_} and will be "
                    f"removed in {removal_}; use {n!r} instead",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[n] = kwargs.pop(o)
            return base(*args, **kwargs)

        wrapper.__renamed_keywords__ = renamed
        return wrapper

    return decorate
