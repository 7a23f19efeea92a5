"""One chat completion from a loaded model: prompt, limits, stop strings, deadline.

``generate`` blocks; the server runs it in ``GenerationQueue``'s single worker
thread so the event loop keeps serving while a completion is produced.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from jinja2 import TemplateError
from transformers import StoppingCriteria, StoppingCriteriaList

from easyflow_llm.model import LocalModel


class GenerationError(Exception):
    """A completion that cannot be given; ``status`` and ``code`` for the API."""

    status = 500
    code = "generation_failed"


class DeadlineExceeded(GenerationError):
    status = 504
    code = "deadline_exceeded"


class PromptTooLong(GenerationError):
    status = 400
    code = "context_length_exceeded"


@dataclass(frozen=True)
class GenerationRequest:
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    deadline: float = math.inf  # time.monotonic() by which generation must end
    seed: int | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str  # "stop" | "length"
    prompt_tokens: int
    completion_tokens: int
    elapsed_s: float = field(default=0.0, compare=False)


def render_prompt(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[str, bool]:
    """The prompt text, and whether it came from the tokenizer's chat template
    (which then already holds the special tokens)."""
    if getattr(tokenizer, "chat_template", None):
        try:
            text = tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
        except TemplateError:  # templates without a system role (Gemma, Mistral)
            text = tokenizer.apply_chat_template(
                _system_into_user(messages), tokenize=False, add_generation_prompt=True
            )
        return text, True
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return "\n\n".join([*lines, "assistant:"]), False


def _system_into_user(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system and rest and rest[0]["role"] == "user":
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    return rest


class _Deadline(StoppingCriteria):
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **_: Any) -> Any:
        self.expired = self.expired or time.monotonic() >= self.deadline
        return torch.full((input_ids.shape[0],), self.expired, dtype=torch.bool)


class _StopStrings(StoppingCriteria):
    def __init__(self, tokenizer: Any, stops: tuple[str, ...], start: int) -> None:
        self.tokenizer = tokenizer
        self.stops = stops
        self.start = start

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **_: Any) -> Any:
        text = self.tokenizer.decode(
            input_ids[0, self.start :], skip_special_tokens=True
        )
        hit = any(stop in text for stop in self.stops)
        return torch.full((input_ids.shape[0],), hit, dtype=torch.bool)


def generate(model: LocalModel, request: GenerationRequest) -> Completion:
    """The completion, or ``DeadlineExceeded`` / ``PromptTooLong``."""
    started = time.monotonic()
    if started >= request.deadline:  # waited in the queue past its deadline
        raise DeadlineExceeded("the deadline passed before generation started")
    tokenizer = model.tokenizer
    prompt, templated = render_prompt(tokenizer, request.messages)
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=not templated)
    prompt_tokens = int(inputs["input_ids"].shape[1])
    max_tokens = min(request.max_tokens, model.context_length - prompt_tokens)
    if max_tokens < 1:
        raise PromptTooLong(
            f"the prompt has {prompt_tokens} tokens; the model's context is "
            f"{model.context_length}"
        )
    deadline = _Deadline(request.deadline)
    criteria: list[StoppingCriteria] = [deadline]
    stops = tuple(s for s in request.stop if s)
    if stops:
        criteria.append(_StopStrings(tokenizer, stops, prompt_tokens))
    config = _generation_config(model, request, max_tokens)
    if request.seed is not None:
        torch.manual_seed(request.seed)
    with torch.inference_mode():
        output = model.model.generate(
            input_ids=inputs["input_ids"],
            attention_mask=inputs["attention_mask"],
            generation_config=config,
            stopping_criteria=StoppingCriteriaList(criteria),
        )
    if deadline.expired:
        raise DeadlineExceeded(
            f"generation did not finish within {request.deadline - started:.2f} s"
        )
    new = output[0, prompt_tokens:].tolist()
    ended = next(
        (i for i, token in enumerate(new) if token in model.eos_token_ids), None
    )
    tokens = new if ended is None else new[:ended]
    text = tokenizer.decode(tokens, skip_special_tokens=True)
    cut = min((text.find(s) for s in stops if s in text), default=-1)
    if cut >= 0:
        text, reason = text[:cut], "stop"
    elif ended is None and len(new) >= max_tokens:
        reason = "length"
    else:
        reason = "stop"
    return Completion(
        text=text,
        finish_reason=reason,
        prompt_tokens=prompt_tokens,
        completion_tokens=len(new) if ended is None else ended + 1,
        elapsed_s=time.monotonic() - started,
    )


def _generation_config(
    model: LocalModel, request: GenerationRequest, max_tokens: int
) -> Any:
    config = copy.deepcopy(model.model.generation_config)
    config.max_new_tokens = max_tokens
    config.min_new_tokens = None
    config.num_return_sequences = 1
    config.eos_token_id = list(model.eos_token_ids) or None
    if config.pad_token_id is None:
        config.pad_token_id = (
            model.tokenizer.pad_token_id
            if model.tokenizer.pad_token_id is not None
            else (model.eos_token_ids or (0,))[0]
        )
    if request.temperature > 0:
        config.do_sample = True
        config.temperature = request.temperature
        config.top_p = request.top_p
        config.top_k = None
    else:  # greedy; sampling knobs back to defaults so nothing warns
        config.do_sample = False
        config.temperature = 1.0
        config.top_p = 1.0
        config.top_k = 50
    return config
