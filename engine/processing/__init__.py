"""Stream-processing contract: processor base, retry, circuit breaker, dedup, supervision."""

from engine.processing.circuit import BreakerConfig, BreakerState, CircuitBreaker
from engine.processing.dedup import DedupStore, MemoryDedupWindow
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, ProcessorStats, StreamProcessor
from engine.processing.retry import PermanentError, RetryPolicy
from engine.processing.supervisor import Service, Supervisor

__all__ = [
    "BreakerConfig",
    "BreakerState",
    "CircuitBreaker",
    "DedupStore",
    "Emitter",
    "MemoryDedupWindow",
    "PermanentError",
    "ProcessorConfig",
    "ProcessorStats",
    "RetryPolicy",
    "Service",
    "StreamProcessor",
    "Supervisor",
]
