from .audit import AuditAction, AuditEntry
from .dream import DreamAction, DreamActionKind, DreamSession, DreamStatus, DreamTrigger
from .identity import Identity
from .knowledge import Knowledge, KnowledgeMemory, KnowledgeType
from .lesson import Lesson, LessonMemory, LessonStatus
from .llm_call import LlmCall, LlmCallStatus
from .memory import (
    UNEXPIRED,
    Memory,
    MemoryEvent,
    MemorySource,
    MemoryStatus,
    MemoryTag,
    MemoryTier,
    MemoryType,
)
from .pack import ContextPack
from .pipeline import PipelineFailure

__all__ = [
    "UNEXPIRED",
    "AuditAction",
    "AuditEntry",
    "ContextPack",
    "DreamAction",
    "DreamActionKind",
    "DreamSession",
    "DreamStatus",
    "DreamTrigger",
    "Identity",
    "Knowledge",
    "KnowledgeMemory",
    "KnowledgeType",
    "Lesson",
    "LessonMemory",
    "LessonStatus",
    "LlmCall",
    "LlmCallStatus",
    "Memory",
    "MemoryEvent",
    "MemorySource",
    "MemoryStatus",
    "MemoryTag",
    "MemoryTier",
    "MemoryType",
    "PipelineFailure",
]
