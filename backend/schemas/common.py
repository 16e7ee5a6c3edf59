"""Building blocks shared by the API schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
PositiveId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class RequestModel(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Message(BaseModel):
    message: str
