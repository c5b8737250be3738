"""The token counts the fake model reports, per response, in each protocol's own shape.

`Usage` is in normalised terms: `input` (tokens read fresh, not from a cache), `output`, `cache_write`
(Anthropic's cache creation) and `cache_read`. OpenAI and Gemini count cached tokens inside their
prompt figure and have no cache writes, so for them `input + cache_read` is the prompt count.
`FakeModel(usage=FN)` calls FN(conversation) for each response; every response's usage is logged in
the request record (`rec["usage"]`), so a test can add up exactly what was handed out.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Usage:
    input: int = 1000
    output: int = 50
    cache_write: int = 0
    cache_read: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def anthropic_start(self) -> dict:
        return {"input_tokens": self.input, "output_tokens": 1, "cache_creation_input_tokens": self.cache_write,
                "cache_read_input_tokens": self.cache_read}

    def anthropic_delta(self) -> dict:
        return {"input_tokens": self.input, "output_tokens": self.output,
                "cache_creation_input_tokens": self.cache_write, "cache_read_input_tokens": self.cache_read}

    def responses(self) -> dict:
        prompt = self.input + self.cache_read
        return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": self.cache_read},
                "output_tokens": self.output, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": prompt + self.output}

    def chat(self) -> dict:
        prompt = self.input + self.cache_read
        return {"prompt_tokens": prompt, "completion_tokens": self.output, "total_tokens": prompt + self.output,
                "prompt_tokens_details": {"cached_tokens": self.cache_read}}

    def gemini(self) -> dict:
        prompt = self.input + self.cache_read
        data = {"promptTokenCount": prompt, "candidatesTokenCount": self.output,
                "totalTokenCount": prompt + self.output}
        if self.cache_read:
            data["cachedContentTokenCount"] = self.cache_read
        return data


DEFAULT = Usage()
