"""THE gate. Every read path asks `readable()`; every response goes through `strip()`;
every write through `check_write()`; every filter and sort through `check_filter()`."""

from kith.access.actor import Actor, load_actor
from kith.access.gate import (
    can,
    check_filter,
    check_write,
    fields_for,
    readable,
    require,
    strip,
    writable,
)

__all__ = ["Actor", "load_actor", "can", "check_filter", "check_write", "fields_for", "readable", "require", "strip", "writable"]
