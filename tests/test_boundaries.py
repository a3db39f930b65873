"""DESIGN.md's invariant 2: no code outside zoomadmin/zoom/ talks to Zoom, and nothing bypasses the limiter."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "zoomadmin"
HTTP_MODULES = {"httpx", "httpx2", "authlib", "requests", "urllib3", "http.client", "urllib.request", "aiohttp"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _is_http(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in HTTP_MODULES)


def test_only_the_zoom_package_imports_an_http_client() -> None:
    # The sandbox is Zoom's side of the wire; its in-process transport is for tests and benchmarks.
    allowed = {PACKAGE / "zoom", PACKAGE / "sandbox"}
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(module for module in _imports(path) if _is_http(module))
        for path in PACKAGE.rglob("*.py")
        if not any(parent in allowed for parent in path.parents)
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_the_client_sends_requests_only_through_its_rate_limited_send() -> None:
    source = (PACKAGE / "zoom" / "client.py").read_text()
    tree = ast.parse(source)
    senders = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Attribute)
                    and call.func.value.attr == "_http"
                    and call.func.attr in {"request", "send", "stream", "get", "post", "put", "patch", "delete"}
                ):
                    senders.append(node)
    assert [node.name for node in senders] == ["_send"]
    send = senders[0]
    calls = sorted(
        (node for node in ast.walk(send) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)),
        key=lambda node: (node.lineno, node.col_offset),
    )
    names = [node.func.attr for node in calls]  # type: ignore[attr-defined]
    # The request may be built first (nothing leaves); the slot is taken before it is sent.
    assert "acquire" in names
    assert "send" in names
    assert names.index("acquire") < names.index("send"), "a slot must be taken before anything is sent"
    assert "request" not in names, "requests are built, then sent: nothing goes out before the slot"
