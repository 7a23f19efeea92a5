"""Loading and generating with a tiny model the tests train themselves."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from easyflow_llm.generation import (
    DeadlineExceeded,
    GenerationRequest,
    PromptTooLong,
    generate,
    render_prompt,
)
from easyflow_llm.model import LocalModel, ModelLoadError, load_model

QUESTION = [
    {"role": "system", "content": "You are the support assistant of an online shop."},
    {"role": "user", "content": "Как вернуть товар?"},
]


def test_loads_from_its_directory_with_no_hub_access(
    trained: LocalModel, trained_dir: Path
) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert trained.path == trained_dir and trained.has_chat_template
    assert trained.context_length == 4096
    assert trained.eos_token_ids == (
        trained.tokenizer.convert_tokens_to_ids("<|end|>"),
    )
    assert trained.load_s < 30


def test_a_missing_model_is_a_clear_error_and_nothing_is_downloaded(
    tmp_path: Path,
) -> None:
    with pytest.raises(ModelLoadError, match="config.json"):
        load_model(tmp_path / "absent")
    with pytest.raises(ModelLoadError, match="config.json"):
        load_model(Path("Qwen/Qwen2.5-0.5B-Instruct"))  # a hub name, not a directory
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ModelLoadError):
        load_model(broken)  # no tokenizer, no weights: an error, not a download


def test_the_chat_template_shapes_the_prompt(trained: LocalModel) -> None:
    prompt, templated = render_prompt(trained.tokenizer, QUESTION)
    assert templated
    assert prompt.endswith("<|user|>\nКак вернуть товар?<|end|>\n<|assistant|>\n")


def test_greedy_generation_is_deterministic_and_says_what_it_learnt(
    trained: LocalModel, answers: list[str]
) -> None:
    first = generate(trained, GenerationRequest(QUESTION, max_tokens=40))
    again = generate(trained, GenerationRequest(QUESTION, max_tokens=40))
    assert first == again
    assert first.text in answers
    assert first.finish_reason == "stop"  # it said <|end|> by itself
    assert first.prompt_tokens > 10 and 1 < first.completion_tokens < 40


def test_max_tokens_cuts_the_completion(trained: LocalModel) -> None:
    full = generate(trained, GenerationRequest(QUESTION, max_tokens=40))
    short = generate(trained, GenerationRequest(QUESTION, max_tokens=3))
    assert short.completion_tokens == 3 and short.finish_reason == "length"
    assert full.text.startswith(short.text) and len(short.text) < len(full.text)


def test_a_stop_string_ends_the_completion_and_is_left_out(
    trained: LocalModel,
) -> None:
    full = generate(trained, GenerationRequest(QUESTION, max_tokens=40))
    word = full.text.split()[1]
    stopped = generate(
        trained, GenerationRequest(QUESTION, max_tokens=40, stop=("zzz", f" {word}"))
    )
    assert stopped.text == full.text.split(f" {word}")[0]
    assert stopped.finish_reason == "stop"
    assert stopped.completion_tokens < full.completion_tokens


def test_seeded_sampling_is_reproducible(trained: LocalModel) -> None:
    request = GenerationRequest(QUESTION, max_tokens=20, temperature=1.5, seed=7)
    assert generate(trained, request).text == generate(trained, request).text


def test_without_a_chat_template_a_role_tagged_prompt_is_used(
    trained_dir: Path, tmp_path: Path
) -> None:
    plain_dir = shutil.copytree(trained_dir, tmp_path / "plain")
    (plain_dir / "chat_template.jinja").unlink()
    config = json.loads((plain_dir / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (plain_dir / "tokenizer_config.json").write_text(json.dumps(config))
    plain = load_model(plain_dir, threads=1)
    assert not plain.has_chat_template
    prompt, templated = render_prompt(plain.tokenizer, QUESTION)
    assert not templated
    assert prompt.endswith("user: Как вернуть товар?\n\nassistant:")
    completion = generate(plain, GenerationRequest(QUESTION, max_tokens=5))
    assert completion.completion_tokens >= 1


def test_a_prompt_longer_than_the_context_is_refused(trained: LocalModel) -> None:
    messages = [{"role": "user", "content": "упаковка " * 5000}]
    with pytest.raises(PromptTooLong, match="4096"):
        generate(trained, GenerationRequest(messages, max_tokens=10))


def test_the_deadline_stops_generation(untrained_dir: Path) -> None:
    model = load_model(untrained_dir, threads=1)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        generate(
            model,
            GenerationRequest(QUESTION, max_tokens=3000, deadline=started + 0.3),
        )
    assert time.monotonic() - started < 2.5  # stopped, not run to 3000 tokens
    with pytest.raises(DeadlineExceeded, match="before generation started"):
        generate(model, GenerationRequest(QUESTION, max_tokens=5, deadline=started))
