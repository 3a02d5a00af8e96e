"""Errors named after their owner, one way: :func:`owned`.

Every public method of an adapter (and tune's objects) that checks what the user passed is decorated with
:func:`owned`; the checks inside raise plain messages naming the argument, and the decorator puts the owner in
front once: ``WarmupLR: warmup_steps must be ...``, ``WarmupLR.load_state_dict: missing keys ...``,
``WarmupCallback: the 'lr' schedule does not fit this fit call ...``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = ["named", "owned", "owner_error"]

F = TypeVar("F", bound=Callable[..., Any])


def owner_error(owner: str, error: Exception) -> Exception:
    """``error`` with ``owner: `` in front of its message, once: a message an owner of the same class already
    named (``Class:`` or ``Class.method:``, from an inner owned call) is kept."""
    message = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    cls = owner.split(".")[0]
    head = message.split(":", 1)[0]
    if ":" in message and (head == cls or head.startswith(f"{cls}.")):
        return error
    return type(error)(f"{owner}: {message}")


def owned(method: F | None = None, *, as_class: bool = False) -> Any:
    """Prefix a ``TypeError``/``ValueError``/``KeyError`` raised inside ``method`` with its owner's name:
    ``Class.method: ``; ``Class: `` for ``__init__``, and with ``as_class=True`` for a host's event that the user
    never calls by name (fastai's ``before_fit``)."""
    if method is None:
        return functools.partial(owned, as_class=as_class)
    by_class = as_class or method.__name__ == "__init__"

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (TypeError, ValueError, KeyError) as error:
            name = type(self).__name__ + ("" if by_class else f".{method.__name__}")
            named = owner_error(name, error)
            if named is error:
                raise
            raise named from error

    return wrapper


@contextlib.contextmanager
def named(owner: str) -> Iterator[None]:
    """The errors raised inside, named as :func:`owned` names them (``owner`` is ``Class.method``): for code that
    checks for a method it is not (an extension's state, checked whole before the adapter applies any of it)."""
    try:
        yield
    except (TypeError, ValueError, KeyError) as error:
        renamed = owner_error(owner, error)
        if renamed is error:
            raise
        raise renamed from error
