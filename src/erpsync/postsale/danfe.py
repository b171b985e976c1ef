"""The DANFE (the NF-e's printed form) as a PDF, rendered by brazilfiscalreport.

brazilfiscalreport is the optional ``danfe`` extra (``pip install 'erpsync[danfe]'``): it pulls
fpdf2, Pillow and fonts, which a server that only syncs does not need.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from erpsync.errors import ConfigError


def render_danfe(xml: bytes) -> bytes:
    """The DANFE PDF of an NF-e XML (nfeProc).

    Raises:
        ConfigError: brazilfiscalreport is not installed.
    """
    try:
        from brazilfiscalreport.danfe import Danfe
    except ImportError:
        raise ConfigError(
            "the DANFE needs brazilfiscalreport: pip install 'erpsync[danfe]'"
        ) from None
    # layout AUTO: the layout in force on the NF-e's issue date, so one XML prints one way
    pdf = Danfe(xml.decode("utf-8"))
    return bytes(pdf.output())


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename:
    a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
