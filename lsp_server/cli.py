"""The `treellama` command: serve, doctor, model install/list.

Only this module prints to stdout, and `serve` never does: it hands stdout to the protocol.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsp_server import __version__

if TYPE_CHECKING:
    from inference.doctor import Check

log = logging.getLogger("treellama")


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def _add_agent_parser(commands: Any) -> None:
    agent = commands.add_parser(
        "agent",
        help="run an agent task in a terminal, or show a task's log",
        description='treellama agent "instruction" [--workspace DIR] [--image FILE]  |  '
        "treellama agent log ID",
    )
    agent.add_argument("words", nargs="+", help='the instruction, or "log" and a task id')
    agent.add_argument("--workspace", help="the project folder (default: the current one)")
    agent.add_argument("--effort", choices=["low", "medium", "high"])
    agent.add_argument(
        "--approval-policy", choices=["untrusted", "on-failure", "on-request", "never"]
    )
    agent.add_argument(
        "--image", action="append", default=[], metavar="FILE",
        help="a screenshot or other image for the task (repeatable); its text is read locally",
    )  # fmt: skip
    agent.add_argument(
        "--apply", choices=["ask", "yes", "no"], default="ask",
        help="apply the result to your files (default: ask)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="treellama", description="A local-first AI coding backend over LSP."
    )
    parser.add_argument("--version", action="version", version=f"treellama {__version__}")
    parser.add_argument("--log-file", help="write logs to this file instead of stderr")
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="overrides the configuration's [log] level (default info)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="listen on TCP")
    serve.add_argument(
        "--max-message-bytes",
        type=int,
        default=None,
        help="largest JSON-RPC message body accepted (default 64 MiB)",
    )

    doctor = commands.add_parser("doctor", help="check the installation and the model")
    doctor.add_argument("--workspace", type=Path, help="read treellama.toml from here")

    stats = commands.add_parser("stats", help="local completion statistics")
    stats.add_argument("--json", action="store_true", help="print the summary as JSON")

    _add_agent_parser(commands)

    web = commands.add_parser(
        "web", help="serve the web page and the HTTP API (tasks, an OpenAI-compatible model)"
    )
    web.add_argument("--workspace", help="the project folder (default: the current one)")
    web.add_argument("--port", type=int, help="default: web.port, else a free one")
    web.add_argument("--host", help="default: web.host (127.0.0.1)")

    model = commands.add_parser("model", help="manage models")
    model_commands = model.add_subparsers(dest="model_command", required=True)
    install = model_commands.add_parser("install", help="download and verify a model")
    install.add_argument("name", nargs="?", help="a registered model (default: the default)")
    model_commands.add_parser("list", help="list the registered models")
    return parser


def cmd_serve(args: argparse.Namespace, make_server: Any = None) -> int:
    from lsp_server.features import register_all
    from lsp_server.framing import DEFAULT_MAX_BODY
    from lsp_server.server import TreellamaServer
    from lsp_server.transport import serve_stdio, serve_tcp

    server = (make_server or TreellamaServer)()
    register_all(server)
    max_body = args.max_message_bytes or DEFAULT_MAX_BODY
    if args.tcp:
        host, port = args.tcp
        code = serve_tcp(server.protocol, host, port, max_body=max_body)
    else:
        code = serve_stdio(server.protocol, max_body=max_body)
    server.close_services()
    log.info("exiting with code %s", code)
    return code


def cmd_model_list(args: argparse.Namespace) -> int:
    from inference.install import is_installed
    from inference.paths import models_dir
    from inference.registry import DEFAULT_MODEL, MODELS

    for spec in MODELS.values():
        installed = is_installed(spec, models_dir() / spec.filename, verify_hash=False)
        marks = ("default, " if spec.name == DEFAULT_MODEL else "") + (
            "installed" if installed else "not installed"
        )
        print(f"{spec.name:22} {spec.size / 2**20:7.0f} MiB  {spec.license:11} ({marks})")
        print(f"{'':22} {spec.description}")
    print(f"\nmodels directory: {models_dir()}")
    return 0


def cmd_model_install(args: argparse.Namespace) -> int:
    from inference.install import ModelInstallError, install_model
    from inference.paths import models_dir
    from inference.registry import DEFAULT_MODEL, UnknownModelError, get_model_spec

    try:
        spec = get_model_spec(args.name or DEFAULT_MODEL)
    except UnknownModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = install_model(
            spec, models_dir(), progress=lambda message: print(f"  {message}", file=sys.stderr)
        )
    except ModelInstallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    state = "already installed and verified" if result.already_installed else "installed"
    print(f"{spec.name}: {state} at {result.path} (sha256 {spec.sha256})")
    return 0


def check_grammars() -> list[Check]:
    """The index's grammars (a front end's check: inference does not know indexing)."""
    from indexing.grammars import grammar_status
    from inference.doctor import Check

    status = grammar_status()
    missing = {language: why for language, why in status.items() if why}
    if not missing:
        return [Check("grammars", True, f"{len(status)} available: {', '.join(status)}")]
    return [
        Check(
            "grammars",
            False,
            "missing: " + "; ".join(f"{lang} ({why})" for lang, why in missing.items()),
            "reinstall tree-sitter-language-pack 0.13.x",
        )
    ]


def cmd_doctor(args: argparse.Namespace) -> int:
    from agent.doctor import check_sandbox, check_strategy
    from inference.doctor import check_images, check_model, check_runtime
    from lsp_server.config import load_config

    config, problems = load_config(workspace_root=args.workspace)
    checks = [
        *check_runtime(), *check_model(config.model), *check_grammars(),
        *check_sandbox(config.agent.sandbox), *check_strategy(config.agent.strategy),
        *check_images(config.model, config.backend),
    ]  # fmt: skip
    for problem in problems:
        print(f"[warn] configuration  {problem}")
    failed = 0
    for check in checks:
        print(f"[{'ok' if check.ok else 'FAIL':4}] {check.name:15} {check.detail}")
        if not check.ok:
            failed += 1
            print(f"       {'':15} fix: {check.fix}")
    print(f"\n{len(checks) - failed} ok, {failed} problem(s)")
    return 1 if failed else 0


def workspace_and_config(folder: str | None) -> tuple[Path, Any] | None:
    """The project folder (default: the current one) and its configuration, with any bad
    setting reported on stderr; None (reported too) when the folder does not exist."""
    from agent.terminal import workspace_path
    from lsp_server.config import load_config

    workspace = workspace_path(folder)
    if not workspace.is_dir():
        print(f"error: {workspace} is not a folder", file=sys.stderr)
        return None
    config, problems = load_config(workspace_root=workspace)
    for problem in problems:
        print(f"warning: configuration {problem}", file=sys.stderr)
    return workspace, config


def cmd_web(args: argparse.Namespace) -> int:
    from lsp_server.web.server import run_standalone

    found = workspace_and_config(args.workspace)
    if found is None:
        return 2
    root, config = found
    host = args.host or config.web.host
    port = config.web.port if args.port is None else args.port
    return run_standalone(root, config, host, port)


def cmd_agent(args: argparse.Namespace) -> int:
    from agent.terminal import (
        TerminalApprover,
        list_logs,
        print_event,
        run_in_terminal,
        show_log,
        workspace_path,
    )

    if args.words[0] == "log" and len(args.words) == 2:
        return show_log(args.words[1])
    if args.words == ["log"]:  # no id: the list to pick one from; reading needs no model
        from agent.tasks import workspace_key

        folder = workspace_path(args.workspace)
        return list_logs(workspace_key(folder))
    from agent.images import ImageRefused, parse_images
    from agent.tasks import TaskError
    from agent.vague import question_for
    from lsp_server.services import ModelUnavailable, build_services

    found = workspace_and_config(args.workspace)
    if found is None:
        return 2
    workspace, config = found
    question = question_for(" ".join(args.words), workspace)
    if question is not None:  # asked before the model loads: nothing starts
        print(f"question: {question}", file=sys.stderr)
        return 2
    try:
        images = parse_images([{"path": str(Path(name).resolve())} for name in args.image],
                              workspace)  # fmt: skip
    except ImageRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    services = build_services()
    print(f"loading {config.model.path or config.model.name}...", file=sys.stderr)
    services.load_model(config.model, config.backend)
    try:
        services.wait_model()
    except ModelUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        services.worker.stop()
        return 1
    if services.open_index(workspace, config.index) is not None:
        services.scan()  # in the background: the task's search sees what is read so far
    manager = services.task_manager(workspace, config.agent, TerminalApprover(), print_event)
    try:
        return run_in_terminal(
            manager, " ".join(args.words), args.effort, args.approval_policy,
            {"yes": "y", "no": "n"}.get(args.apply, "ask"), images=images,
        )  # fmt: skip
    except TaskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        services.close()
        services.worker.stop()


def cmd_stats(args: argparse.Namespace) -> int:
    import json

    from inference.stats import read_stats, stats_file, summarize

    summary = summarize(read_stats())
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    rate = summary["acceptanceRate"]
    chars = summary["acceptedCharsRatio"]
    print(f"statistics from {stats_file()} (kept on this machine only)")
    print(f"  completions   {summary['completions']} ({summary['nonEmpty']} with a suggestion)")
    print(f"  shown         {summary['shown']}")
    print(
        f"  accepted      {summary['accepted']} ({summary['partialAccepts']} partly)"
        + (f", acceptance rate {rate:.0%}" if rate is not None else "")
        + (f", {chars:.0%} of suggested characters kept" if chars is not None else "")
    )
    for source, latency in summary["latencyMs"].items():
        print(
            f"  latency {source:12} n={latency['n']:<5} p50 {latency['p50']} ms"
            f"  p95 {latency['p95']} ms"
        )
    tokens = summary["tokens"]
    print(
        f"  tokens        prompt {tokens['prompt']:,}, evaluated {tokens['evaluated']:,}, "
        f"generated {tokens['generated']:,}"
    )
    return 0


def main(argv: list[str] | None = None, make_server: Any = None) -> int:
    """`make_server`: what `serve` runs (a TreellamaServer by default; tests give one their
    own agent model through its constructor)."""
    args = build_parser().parse_args(argv)
    from lsp_server import logging_setup
    from lsp_server.config import load_config

    if args.log_level:
        logging_setup.PINNED.append(args.log_level)
    from inference import paths

    workspace = getattr(args, "workspace", None)
    config = load_config(workspace_root=Path(workspace) if workspace else None)[0]
    logging_setup.configure_logging(config.log.level, args.log_file)
    paths.configure(config.paths)
    if args.command == "serve":
        return cmd_serve(args, make_server)
    if args.command == "doctor":
        return cmd_doctor(args)
    if args.command == "stats":
        return cmd_stats(args)
    if args.command == "agent":
        return cmd_agent(args)
    if args.command == "web":
        return cmd_web(args)
    if args.model_command == "install":
        return cmd_model_install(args)
    return cmd_model_list(args)


if __name__ == "__main__":
    sys.exit(main())
