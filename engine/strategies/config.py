"""Strategy configuration from YAML: which strategies run, on which instruments, for which broker.

Everything is validated on load (kind, parameters with bounds, instrument keys, unique
names), and a mistake is reported as one line naming the file and the field.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    model_validator,
)

from engine.events.types import Broker
from engine.market.bars import INTERVALS
from engine.strategies.params import (
    EmaCrossParams,
    MeanReversionParams,
    MomentumParams,
    RsiParams,
    StrategyParams,
)

StrategyKind = Literal["ema_cross", "momentum", "mean_reversion", "rsi"]
TICKS = "tick"  # ``bars: tick``: the strategy sees every tick, no aggregation
PARAMS_FOR_KIND: dict[str, type[StrategyParams]] = {
    "ema_cross": EmaCrossParams,
    "momentum": MomentumParams,
    "mean_reversion": MeanReversionParams,
    "rsi": RsiParams,
}


class StrategyConfigError(ValueError):
    """A strategies file that cannot be used; the message is fit for one line on stderr.

    ``path`` locates the problem in the document (entry index, then field names), so a
    file's loader can say which line it is on.
    """

    def __init__(self, message: str, path: tuple[int | str, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


class StrategyConfig(BaseModel):
    """One configured strategy. ``params`` holds the validated values, defaults filled in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Strict where YAML's loose typing could change meaning ("enabled: 'no'" is a string).
    name: str = Field(strict=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
    kind: StrategyKind
    params: dict[str, Any] = Field(default_factory=dict)
    instruments: tuple[Annotated[str, Strict()], ...] = Field(min_length=1)
    enabled: bool = Field(True, strict=True)
    broker: Broker = Broker.PAPER
    # What the strategy is fed: every tick, or time bars of a Kite interval ("5minute"),
    # closed on event time by ``engine.market.bars`` (live, replay and backtest alike).
    bars: str = Field(TICKS, strict=True)

    @model_validator(mode="after")
    def _check_bars(self) -> StrategyConfig:
        if self.bars != TICKS and self.bars not in INTERVALS:
            raise ValueError(
                f"bars: {self.bars!r} is not '{TICKS}' or one of {', '.join(INTERVALS)}"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _check_params(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") in PARAMS_FOR_KIND:
            model = PARAMS_FOR_KIND[data["kind"]]
            try:
                params = model.model_validate(data.get("params") or {})
            except ValidationError as exc:
                raise ValueError(_first_problem(exc, "params")) from None
            data = {**data, "params": params.model_dump()}
        return data

    @model_validator(mode="after")
    def _check_instruments(self) -> StrategyConfig:
        for key in self.instruments:
            exchange, _, symbol = key.partition(":")
            if not exchange.isupper() or not symbol.strip():
                raise ValueError(f"instrument {key!r} must look like 'NSE:INFY'")
        return self

    def typed_params(self) -> StrategyParams:
        return PARAMS_FOR_KIND[self.kind].model_validate(self.params)


def default_strategies_path() -> Path:
    return Path(str(resources.files("engine.strategies").joinpath("default_strategies.yaml")))


def load_strategies(path: str | Path | None = None) -> list[StrategyConfig]:
    """Configured strategies from ``path``, or the bundled defaults when None."""
    source = Path(path) if path is not None else default_strategies_path()
    try:
        text = source.read_text(encoding="utf-8")
        document = yaml.safe_load(text)
    except OSError as exc:
        raise StrategyConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise StrategyConfigError(
            f"{source}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}:" if where is not None else ""
        raise StrategyConfigError(f"{source}:{line} not valid YAML") from None
    if document is None:  # an empty file would quietly run no strategy at all
        raise StrategyConfigError(f"{source}: empty (expected a 'strategies' list)")
    try:
        return parse_strategies(document, str(source))
    except StrategyConfigError as exc:
        line_no = _line_of(text, exc.path)
        if line_no is None:
            raise
        where = f"{source}: "
        raise StrategyConfigError(
            f"{where}line {line_no}: {str(exc).removeprefix(where)}", exc.path
        ) from None


def _line_of(text: str, path: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest node of ``path`` under the ``strategies`` list."""
    if not path:
        return None
    node = yaml.compose(text)
    if isinstance(node, yaml.MappingNode):
        node = _child(node, "strategies")
    for part in path:
        child = _child(node, part)
        if child is None:
            break
        node = child
    return None if node is None else node.start_mark.line + 1


def _child(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        return node.value[part] if 0 <= part < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if key.value == str(part)), None)
    return None


def parse_strategies(document: object, source: str = "strategies") -> list[StrategyConfig]:
    """Validate a loaded YAML document: a list, or a mapping with a ``strategies`` list."""
    if isinstance(document, dict):
        document = document.get("strategies")
    if document is None:
        return []
    if not isinstance(document, list):
        raise StrategyConfigError(f"{source}: expected a list under 'strategies'")
    configs: list[StrategyConfig] = []
    seen: set[str] = set()
    for index, entry in enumerate(document):
        try:
            config = StrategyConfig.model_validate(entry)
        except ValidationError as exc:
            raise StrategyConfigError(
                f"{source}: {describe_error(exc, index, entry)}", (index, *_field_of(exc))
            ) from None
        if config.name in seen:
            raise StrategyConfigError(
                f"{source}: strategies[{index}]: duplicate name {config.name!r}", (index, "name")
            )
        seen.add(config.name)
        configs.append(config)
    return configs


def describe_error(exc: ValidationError, index: int, entry: object) -> str:
    """The first problem as ``strategies[1] 'ema-fast': params.fast: <why> (got 0)``."""
    name = entry.get("name") if isinstance(entry, dict) else None
    where = f"strategies[{index}]" + (f" {name!r}" if name else "")
    return f"{where}: {_first_problem(exc)}"


def _field_of(exc: ValidationError) -> tuple[int | str, ...]:
    """Where the first problem is: its location, or the one its message starts with
    (parameter errors are raised by a model validator as ``params.fast: ...``)."""
    error = exc.errors(include_url=False)[0]
    if error["loc"]:
        return tuple(error["loc"])
    head = error["msg"].removeprefix("Value error, ").split(": ", 1)[0]
    return (
        tuple(int(part) if part.isdigit() else part for part in head.split("."))
        if " " not in head
        else ()
    )


def _first_problem(exc: ValidationError, prefix: str = "") -> str:
    error = exc.errors(include_url=False)[0]
    location = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    shown = error["type"] != "missing" and not isinstance(got, dict | list | tuple)
    suffix = f" (got {got!r})" if shown else ""
    return f"{location}: {message}{suffix}" if location else f"{message}{suffix}"
