"""The contract between the dashboard's refresh timer and its panels.

A panel names the read-model sections it draws; the dashboard calls ``show`` only when
one of them changed since the last frame, so a tick burst costs one redraw per frame.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from engine.read_model import ReadModel
from widgets.formatting import Palette


class Frame:
    """What every panel needs to draw one frame: the model, the time, the theme colours."""

    __slots__ = ("model", "now_ns", "palette")

    def __init__(self, model: ReadModel, now_ns: int, palette: Palette) -> None:
        self.model = model
        self.now_ns = now_ns
        self.palette = palette


class Panel(Protocol):
    SECTIONS: ClassVar[tuple[str, ...]]

    def show(self, frame: Frame) -> None: ...
