"""Building blocks shared by the API schemas."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from backend.services.auth import EMAIL_PATTERN

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320, pattern=f"^{EMAIL_PATTERN}$")
]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
PositiveId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _reject_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key)
            _reject_nul(item)
    elif isinstance(value, list):
        for item in value:
            _reject_nul(item)


class RequestModel(BaseModel):
    """Request input: unknown fields are errors (a typo is not silently ignored), and so is NUL in any text,
    which PostgreSQL cannot store."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _reject_nul(data)
        return data


class Message(BaseModel):
    message: str
